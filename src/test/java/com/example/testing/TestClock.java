package com.example.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A UTC clock that a test moves by hand: time passing, tombstones at chosen instants, a rate
 * limit's refill, without sleeping. A base clock (the system's, or one frozen at an instant) plus
 * an offset the test changes; thread-safe, since servers under test read it from their own
 * threads. The one test clock of the project, so that the source's tests and the connector's share it.
 */
public final class TestClock extends Clock {
  private final Clock base;
  private final AtomicReference<Duration> offset;
  private final Runnable onRead;

  private TestClock(Clock base, Duration offset, Runnable onRead) {
    this.base = base;
    this.offset = new AtomicReference<>(offset);
    this.onRead = onRead;
  }

  /** The system clock, moved forward only by {@link #advance}: real time passing, plus a jump. */
  public static TestClock system() {
    return new TestClock(Clock.systemUTC(), Duration.ZERO, () -> {});
  }

  /** A clock that stands still at {@code at} until moved: every instant is one a test can write down. */
  public static TestClock frozenAt(Instant at) {
    return new TestClock(Clock.fixed(at, ZoneOffset.UTC), Duration.ZERO, () -> {});
  }

  /**
   * This clock at its current reading, running {@code hook} on every read before answering: lets a
   * test hold a thread at the moment it reads the time (the hook may block).
   */
  public TestClock onRead(Runnable hook) {
    return new TestClock(base, offset.get(), hook);
  }

  /** Moves the clock by {@code d} (negative: back). */
  public void advance(Duration d) {
    offset.updateAndGet(o -> o.plus(d));
  }

  /** Moves the clock to {@code at} (exactly, for a frozen clock). */
  public void set(Instant at) {
    offset.set(Duration.between(base.instant(), at));
  }

  @Override
  public Instant instant() {
    onRead.run();
    return base.instant().plus(offset.get());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  /** Unsupported: a second clock in another zone would not move with this one. */
  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException();
  }
}
