package com.example.connector.client;

import java.io.Serializable;
import java.net.URI;

/**
 * Everything a worker needs to open a client to the source. Serializable so that it travels
 * inside the read DoFns; the password travels as a {@link Password} reference, resolved only
 * when the client is built.
 */
public record SourceConfig(URI baseUrl, String username, Password password, RetryPolicy retry)
    implements Serializable {

  @Override
  public String toString() {
    return "SourceConfig{baseUrl=" + baseUrl + ", username=" + username + ", password=" + password
        + ", retry=" + retry + "}";
  }
}
