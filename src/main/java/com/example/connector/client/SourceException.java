package com.example.connector.client;

/**
 * The source answered with an error that retrying will not fix, or kept failing after every
 * retry. The message names the request path and the server's own error text; it never carries
 * credentials.
 */
public class SourceException extends RuntimeException {
  private final int status;

  public SourceException(String message, int status, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  /** The HTTP status, or 0 when the source could not be reached at all. */
  public int status() {
    return status;
  }
}
