package com.example.connector.client;

/**
 * The source answered with an error that retrying will not fix, kept failing after every retry,
 * or answered something that is not the API (status 200: a body or a record that breaks the
 * contract). The message names the request, what came back and the server's own error text; it
 * never carries credentials.
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

  /** Whether a later attempt may succeed: the source was unreachable, or busy (429, 500, 503). */
  public boolean isTransient() {
    return isTransient(status);
  }

  static boolean isTransient(int status) {
    return status == 0 || status == 429 || status == 500 || status == 503;
  }
}
