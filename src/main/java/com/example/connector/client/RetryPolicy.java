package com.example.connector.client;

import java.io.Serializable;
import java.time.Duration;

/**
 * How the client retries 429, 500, 503 and connection failures: exponential backoff from
 * {@code initialBackoff}, doubling, never above {@code maxBackoff}, at most {@code maxAttempts}
 * attempts in all. A {@code Retry-After} from the server replaces the computed backoff.
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff)
    implements Serializable {

  /** The documented policy: 5 attempts, 1 s doubling, at most 30 s between attempts. */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(5, Duration.ofSeconds(1), Duration.ofSeconds(30));

  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
    }
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("backoff must satisfy 0 <= initial <= max");
    }
  }

  /** The wait before attempt {@code attempt + 1}, after {@code attempt} failed ones (1-based). */
  Duration backoffAfter(int attempt) {
    long millis = initialBackoff.toMillis();
    for (int i = 1; i < attempt && millis < maxBackoff.toMillis(); i++) {
      millis *= 2;
    }
    return Duration.ofMillis(Math.min(millis, maxBackoff.toMillis()));
  }
}
