package com.example.connector.catalog;

import java.time.Instant;
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
   */
  public static long parseMicros(String text) {
    int n = text.length();
    int fraction = n > 19 && text.charAt(19) == '.' ? digitsFrom(text, 20) : 0;
    int zone = fraction > 0 ? 20 + fraction : 19;
    if (n < 20 || text.charAt(4) != '-' || text.charAt(7) != '-' || text.charAt(10) != 'T'
        || text.charAt(13) != ':' || text.charAt(16) != ':' || fraction > 6
        || (n > 19 && text.charAt(19) == '.' && fraction == 0)) {
      return toMicros(parse(text));
    }
    int offsetSeconds;
    if (n == zone + 1 && text.charAt(zone) == 'Z') {
      offsetSeconds = 0;
    } else if (n == zone + 6 && (text.charAt(zone) == '+' || text.charAt(zone) == '-') && text.charAt(zone + 3) == ':') {
      int hours = number(text, zone + 1, 2);
      int minutes = number(text, zone + 4, 2);
      if (hours < 0 || hours > 18 || minutes < 0 || minutes > 59 || (hours == 18 && minutes > 0)) {
        return toMicros(parse(text));
      }
      offsetSeconds = (text.charAt(zone) == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
    } else {
      return toMicros(parse(text));
    }
    int year = number(text, 0, 4);
    int month = number(text, 5, 2);
    int day = number(text, 8, 2);
    int hour = number(text, 11, 2);
    int minute = number(text, 14, 2);
    int second = number(text, 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > java.time.YearMonth.of(year, month).lengthOfMonth()
        || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
      return toMicros(parse(text)); // java.time says what is wrong
    }
    long micros = fraction == 0 ? 0 : number(text, 20, fraction);
    for (int i = fraction; i < 6; i++) {
      micros *= 10;
    }
    long seconds = java.time.LocalDate.of(year, month, day).toEpochDay() * 86_400L
        + hour * 3600L + minute * 60L + second - offsetSeconds;
    return seconds * 1_000_000L + micros;
  }

  /** How many ASCII digits start at {@code from}. */
  private static int digitsFrom(String text, int from) {
    int i = from;
    while (i < text.length() && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
      i++;
    }
    return i - from;
  }

  /** The decimal number in {@code text[from, from + length)}, or -1 if any of it is not a digit. */
  private static int number(String text, int from, int length) {
    int value = 0;
    for (int i = from; i < from + length; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
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
