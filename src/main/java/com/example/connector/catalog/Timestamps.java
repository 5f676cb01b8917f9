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

  public static long toMicros(Instant instant) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, instant);
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
