package com.example.source;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-credential rate limit: a token bucket of {@code callsPerSecond} tokens (also the burst),
 * refilled continuously, on the source's {@link Clock} so tests decide when time passes.
 *
 * <p>Kept in the equivalent "theoretical arrival time" form (GCRA): one instant per username,
 * the time at which its bucket would be full again. A call at {@code now} is allowed while that
 * instant is at most {@code (N - 1)} intervals ahead of {@code now}, and then moves it one
 * interval on; a refused call changes nothing.
 */
final class RateLimiter {
  /** Past this many tracked users, buckets that are full again are dropped (they equal absent ones). */
  private static final int PRUNE_ABOVE = 10_000;

  private final Clock clock;
  private final int callsPerSecond;
  private final long intervalNanos;
  private final long burstNanos;
  private final ConcurrentHashMap<String, Instant> fullAt = new ConcurrentHashMap<>();

  RateLimiter(Clock clock, int callsPerSecond) {
    if (callsPerSecond < 1) {
      throw new IllegalArgumentException("rate limit must be >= 1 call per second: " + callsPerSecond);
    }
    this.clock = clock;
    this.callsPerSecond = callsPerSecond;
    this.intervalNanos = 1_000_000_000L / callsPerSecond;
    this.burstNanos = intervalNanos * (callsPerSecond - 1);
  }

  int callsPerSecond() {
    return callsPerSecond;
  }

  /**
   * Takes one token of {@code user}'s bucket.
   *
   * @return 0 if the call may proceed, else the whole seconds (>= 1) until the next token is due
   */
  long acquire(String user) {
    Instant now = clock.instant();
    long[] waitNanos = {0};
    fullAt.compute(user, (u, at) -> {
      Instant start = at == null || at.isBefore(now) ? now : at;
      long ahead = Duration.between(now, start).toNanos();
      if (ahead > burstNanos) {
        waitNanos[0] = ahead - burstNanos;
        return at;
      }
      return start.plusNanos(intervalNanos);
    });
    if (fullAt.size() > PRUNE_ABOVE) {
      fullAt.values().removeIf(at -> !at.isAfter(now));
    }
    return waitNanos[0] == 0 ? 0 : Math.max(1, ceilSeconds(waitNanos[0]));
  }

  private static long ceilSeconds(long nanos) {
    return (nanos + 999_999_999L) / 1_000_000_000L;
  }
}
