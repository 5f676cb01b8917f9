package com.example.connector;

/**
 * A user's configuration is wrong: the pipeline spec, a connection, a table option or a
 * pipeline option. The message names the field, says what was wrong and how to fix it; it is
 * shown to the user as is, so it never contains a secret.
 */
public class ConfigurationException extends RuntimeException {
  public ConfigurationException(String message) {
    super(message);
  }

  public ConfigurationException(String message, Throwable cause) {
    super(message, cause);
  }
}
