package com.example.connector.pipeline;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** The system clock plus an offset that a test moves: time passing, or skew, without sleeping. */
final class SteppableClock extends Clock {
  private final AtomicLong offsetNanos = new AtomicLong();

  SteppableClock(Duration skew) {
    offsetNanos.set(skew.toNanos());
  }

  void advance(Duration d) {
    offsetNanos.addAndGet(d.toNanos());
  }

  @Override
  public Instant instant() {
    return Instant.now().plusNanos(offsetNanos.get());
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
