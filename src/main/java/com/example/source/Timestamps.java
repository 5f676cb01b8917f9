package com.example.source;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * Timestamps are carried internally as epoch microseconds (UTC). Kept apart from the connector's
 * {@code catalog.Timestamps} on purpose: the source stands in for an outside server, so a bug in
 * one side's parsing must not be hidden by the other side sharing it.
 */
final class Timestamps {
  private Timestamps() {}

  /** Clamp so that arithmetic on micros never overflows (about +-285,000 years). */
  private static final long MAX_SECONDS = 9_000_000_000_000L;

  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

  static long micros(Instant instant) {
    long s = instant.getEpochSecond();
    if (s > MAX_SECONDS) {
      return MAX_SECONDS * 1_000_000L;
    }
    if (s < -MAX_SECONDS) {
      return -MAX_SECONDS * 1_000_000L;
    }
    return s * 1_000_000L + instant.getNano() / 1000;
  }

  static Instant instant(long micros) {
    return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
  }

  /** ISO-8601, always 6 fraction digits, offset {@code +00:00}. */
  static String format(long micros) {
    long secs = Math.floorDiv(micros, 1_000_000L);
    int frac = (int) Math.floorMod(micros, 1_000_000L);
    LocalDateTime t = LocalDateTime.ofEpochSecond(secs, 0, ZoneOffset.UTC);
    int year = t.getYear();
    StringBuilder sb = new StringBuilder(32);
    if (year >= 0 && year <= 9999) {
      pad(sb, year, 4);
    } else {
      sb.append(year > 9999 ? "+" : "-");
      pad(sb, Math.abs(year), 4);
    }
    sb.append('-');
    pad(sb, t.getMonthValue(), 2);
    sb.append('-');
    pad(sb, t.getDayOfMonth(), 2);
    sb.append('T');
    pad(sb, t.getHour(), 2);
    sb.append(':');
    pad(sb, t.getMinute(), 2);
    sb.append(':');
    pad(sb, t.getSecond(), 2);
    sb.append('.');
    pad(sb, frac, 6);
    sb.append("+00:00");
    return sb.toString();
  }

  private static void pad(StringBuilder sb, int v, int width) {
    String s = Integer.toString(v);
    for (int i = s.length(); i < width; i++) {
      sb.append('0');
    }
    sb.append(s);
  }

  /**
   * Lenient ISO-8601 with a mandatory offset ({@code Z}, {@code +02:00}, 0-9 fraction digits),
   * floored to microseconds (flooring keeps both {@code >} and {@code <=} comparisons exact).
   */
  static long parse(String s) {
    try {
      return micros(OffsetDateTime.parse(s, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant());
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("not an ISO-8601 timestamp with offset: " + s);
    }
  }

  static String httpDate(Instant instant) {
    return HTTP_DATE.format(instant);
  }
}
