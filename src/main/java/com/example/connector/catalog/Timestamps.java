package com.example.connector.catalog;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/**
 * Timestamps as the source writes them and as the connector stores them: the wire form is any
 * ISO-8601 instant with an offset; the stored form is microseconds since the epoch, UTC, which is
 * also the resolution of every cursor.
 */
public final class Timestamps {
  private static final DateTimeFormatter WIRE =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSxxx").withZone(ZoneOffset.UTC);

  private Timestamps() {}

  /** Parses any ISO-8601 date-time with an offset (any fraction length, any offset). */
  public static Instant parse(String text) {
    try {
      return OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not an ISO-8601 timestamp with an offset (e.g. 2024-01-01T00:00:00+00:00)");
    }
  }

  /**
   * {@link #parse} to microseconds. The source's own form ({@code 2024-01-01T00:00:00.000000+00:00}:
   * up to six fraction digits, {@code Z} or a {@code ±HH:MM} offset) is read by hand: it is on every
   * row, and java.time's general parser was a sixth of a run's CPU. Anything else goes to java.time.
   *
   * <p>A fraction finer than a microsecond (a server writing nanoseconds) is rounded up: the source
   * compares {@code since} and {@code until} as instants, and a record just after {@code since = c}
   * must have a cursor above {@code c}, or the read takes it as one of {@code c}'s, read already.
   */
  public static long parseMicros(String text) {
    try {
      return sourceForm(text);
    } catch (RuntimeException otherForm) {
      Instant instant = parse(text); // any other ISO form, or java.time's message for a malformed one
      return Math.addExact(toMicros(instant), instant.getNano() % 1000 == 0 ? 0 : 1);
    }
  }

  private static final long[] FRACTION_SCALE = {0, 100_000, 10_000, 1_000, 100, 10, 1};

  /** Microseconds of the source's own form; throws on anything else (ranges checked by java.time). */
  private static long sourceForm(String text) {
    separator(text, 4, '-');
    separator(text, 7, '-');
    separator(text, 10, 'T');
    separator(text, 13, ':');
    separator(text, 16, ':');
    int at = 19;
    long micros = 0;
    if (at < text.length() && text.charAt(at) == '.') {
      int digits = 0;
      while (at + 1 + digits < text.length() && Character.isDigit(text.charAt(at + 1 + digits))) {
        digits++;
      }
      if (digits == 0 || digits > 6) {
        throw new DateTimeException("not 1 to 6 fraction digits");
      }
      micros = number(text, at + 1, digits) * FRACTION_SCALE[digits];
      at += 1 + digits;
    }
    ZoneOffset offset;
    if (text.length() == at + 1 && text.charAt(at) == 'Z') {
      offset = ZoneOffset.UTC;
    } else if (text.length() == at + 6 && (text.charAt(at) == '+' || text.charAt(at) == '-')) {
      separator(text, at + 3, ':');
      int sign = text.charAt(at) == '-' ? -1 : 1;
      offset = ZoneOffset.ofHoursMinutes(sign * number(text, at + 1, 2), sign * number(text, at + 4, 2));
    } else {
      throw new DateTimeException("not Z or a +HH:MM offset");
    }
    return LocalDateTime.of(number(text, 0, 4), number(text, 5, 2), number(text, 8, 2),
            number(text, 11, 2), number(text, 14, 2), number(text, 17, 2))
        .toEpochSecond(offset) * 1_000_000L + micros;
  }

  private static void separator(String text, int at, char expected) {
    if (text.charAt(at) != expected) {
      throw new DateTimeException("not '" + expected + "' at " + at);
    }
  }

  /** The decimal number in {@code text[from, from + length)}, all ASCII digits. */
  private static int number(String text, int from, int length) {
    int value = 0;
    for (int i = from; i < from + length; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        throw new DateTimeException("not a digit at " + i);
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /** Microseconds since the epoch, rounded down (ChronoUnit's count overflows past year 2262). */
  public static long toMicros(Instant instant) {
    return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1000);
  }

  public static Instant fromMicros(long micros) {
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }

  /** The wire form, {@code 2024-01-01T00:00:00.000000+00:00}. */
  public static String format(Instant instant) {
    return WIRE.format(instant);
  }

  public static String formatMicros(long micros) {
    return format(fromMicros(micros));
  }
}
