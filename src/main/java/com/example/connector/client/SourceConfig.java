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
   * The default {@code max_concurrent_requests}: what a SaaS API commonly allows one token in
   * parallel (often 5 to 10), and enough to hide a round trip behind another's transfer; the
   * budget halves it on the first 429 or 503 anyway.
   */
  public static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 8;

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
