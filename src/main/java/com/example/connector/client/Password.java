package com.example.connector.client;

import com.example.connector.ConfigurationException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the source password comes from. Only {@link #reveal()} ever yields the secret, and it is
 * called where the HTTP client is built (on the worker), so the value itself never travels in
 * pipeline options or display data when it comes from an environment variable or a file.
 * {@link #toString()} names the source, never the value.
 */
public final class Password implements Serializable {
  private static final long serialVersionUID = 1L;

  private enum Kind { INLINE, ENV, FILE }

  private final Kind kind;
  private final String value; // the secret for INLINE, the variable name or file path otherwise

  private Password(Kind kind, String value) {
    this.kind = kind;
    this.value = Objects.requireNonNull(value);
  }

  /** A password written in the connection itself. It is serialized with the pipeline. */
  public static Password inline(String secret) {
    return new Password(Kind.INLINE, secret);
  }

  /** A password read from an environment variable where the client runs. */
  public static Password fromEnv(String variable) {
    return new Password(Kind.ENV, variable);
  }

  /**
   * A password read from a file where the client runs: its first line, without the line break
   * (and nothing else stripped: spaces may be part of a password).
   */
  public static Password fromFile(String path) {
    return new Password(Kind.FILE, path);
  }

  /** The secret. Fails with a message that names where it looked, never the value. */
  public String reveal() {
    switch (kind) {
      case INLINE:
        return value;
      case ENV:
        String fromEnv = System.getenv(value);
        if (fromEnv == null) {
          throw new ConfigurationException(
              "password: environment variable " + value + " is not set on this machine;"
                  + " set it where the pipeline and its workers run");
        }
        if (fromEnv.isEmpty()) { // set wrong, as an empty password file is: the source's 401 would blame the credentials
          throw new ConfigurationException(
              "password: environment variable " + value + " is empty on this machine;"
                  + " set it to the password where the pipeline and its workers run");
        }
        return fromEnv;
      case FILE:
        return firstLine(Path.of(value));
      default:
        throw new AssertionError(kind);
    }
  }

  /**
   * The file's first line; an empty or blank one (spaces only: a file written wrong, not a
   * password) is an error that names the file, never its content.
   */
  private static String firstLine(Path file) {
    String line;
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      line = reader.readLine(); // ends at \n, \r or \r\n, which it drops
    } catch (IOException e) {
      throw new ConfigurationException(
          "password: cannot read password file " + file + ": " + e.getClass().getSimpleName());
    }
    if (line == null || line.isBlank()) {
      throw new ConfigurationException(
          "password: the first line of password file " + file + " is "
              + (line == null || line.isEmpty() ? "empty" : "blank") + "; write the password on its first line");
    }
    return line;
  }

  /** Names the source only: {@code <inline, redacted>}, {@code env:NAME}, {@code file:PATH}. */
  @Override
  public String toString() {
    switch (kind) {
      case INLINE:
        return "<inline, redacted>";
      case ENV:
        return "env:" + value;
      default:
        return "file:" + value;
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Password && ((Password) o).kind == kind && ((Password) o).value.equals(value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, value);
  }
}
