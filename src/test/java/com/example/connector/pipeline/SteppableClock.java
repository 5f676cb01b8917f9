package com.example.connector.pipeline;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** The system clock plus an offset that a test moves: time passing, or skew, without sleeping. */
final class SteppableClock extends Clock {
  private final Clock base;
  private final AtomicLong offsetNanos = new AtomicLong();

  SteppableClock(Duration skew) {
    this(Clock.systemUTC(), skew);
  }

  private SteppableClock(Clock base, Duration skew) {
    this.base = base;
    offsetNanos.set(skew.toNanos());
  }

  /** A clock that stands still at {@code at} until advanced: every instant is one a test can write down. */
  static SteppableClock frozenAt(Instant at) {
    return new SteppableClock(Clock.fixed(at, ZoneOffset.UTC), Duration.ZERO);
  }

  void advance(Duration d) {
    offsetNanos.addAndGet(d.toNanos());
  }

  @Override
  public Instant instant() {
    return base.instant().plusNanos(offsetNanos.get());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException();
  }
}
