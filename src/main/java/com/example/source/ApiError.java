package com.example.source;

/** A request the source refuses: an HTTP status and the message of its {@code {"error": ...}} body. */
public final class ApiError extends RuntimeException {
  private final int status;

  public ApiError(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
