package com.example.connector.client;

import java.io.Serializable;
import java.net.URI;

/**
 * Everything a worker needs to open a client to the source. Serializable so that it travels
 * inside the read DoFns; the password travels as a {@link Password} reference, resolved only
 * when the client is built. {@code maxConcurrentRequests} bounds the calls the connection has in
 * flight per JVM ({@link CallBudget}).
 */
public record SourceConfig(
    URI baseUrl, String username, Password password, RetryPolicy retry, int maxConcurrentRequests)
    implements Serializable {

  /**
   * The default {@code max_concurrent_requests}, by Little's law: one worker of two cores reads
   * about 800 pages a second when calls cost nothing, so to read an API 100 ms away at that rate
   * it needs about 80 calls in flight. At 32, a run of the benchmark's five tables 100 ms away had
   * all 32 in flight from its first probe to its last page (about 290 calls a second). An API that
   * allows fewer says so with 429 or 503, and the budget halves at each (64, 32, 16 after three)
   * and honours its Retry-After, so a high start costs a few refused calls, while a low one costs
   * every run its latency.
   */
  public static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 64;

  public SourceConfig {
    if (maxConcurrentRequests < 1) {
      throw new IllegalArgumentException(
          "maxConcurrentRequests must be at least 1, was " + maxConcurrentRequests);
    }
  }

  /** A config with the default {@link #DEFAULT_MAX_CONCURRENT_REQUESTS}. */
  public SourceConfig(URI baseUrl, String username, Password password, RetryPolicy retry) {
    this(baseUrl, username, password, retry, DEFAULT_MAX_CONCURRENT_REQUESTS);
  }

  @Override
  public String toString() {
    return "SourceConfig{baseUrl=" + baseUrl + ", username=" + username + ", password=" + password
        + ", retry=" + retry + ", maxConcurrentRequests=" + maxConcurrentRequests + "}";
  }
}
