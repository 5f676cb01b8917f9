package com.example.connector.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The hand-written parse of the source's timestamps agrees with java.time on every input. */
class TimestampsTest {

  @Test
  void sourceFormAgreesWithJavaTime() {
    Random random = new Random(42);
    for (int i = 0; i < 100_000; i++) {
      // Any instant from year 1 to 9999, at any offset, with 0 to 6 fraction digits.
      Instant instant = Instant.ofEpochSecond(-62_135_596_800L + (long) (random.nextDouble() * 315_537_897_599L),
          random.nextInt(1_000_000) * 1000L);
      ZoneOffset offset = ZoneOffset.ofTotalSeconds((random.nextInt(73) - 36) * 1800);
      int digits = random.nextInt(7);
      String pattern = "uuuu-MM-dd'T'HH:mm:ss" + (digits == 0 ? "" : "." + "S".repeat(digits))
          + (random.nextInt(4) == 0 ? "XXX" : "xxx");
      String text = DateTimeFormatter.ofPattern(pattern).format(instant.atOffset(offset));
      assertAgrees(text);
    }
  }

  @Test
  void everyOtherFormIsJavaTimes() {
    for (String text : List.of(
        "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5-00:00", "2024-02-29T23:59:59.999999+18:00",
        "0000-01-01T00:00:00Z", "1969-12-31T23:59:59.999999000Z", "2024-01-01T00:00:00.123456000+01:00",
        "2024-01-01T00:00Z", "2024-01-01T00:00+02:00", "2024-01-01t00:00:00z", "2024-01-01T00:00:00+01",
        "2024-01-01T00:00:00+01:30:15", "+12024-01-01T00:00:00Z", "2024-01-01T00:00:00.Z")) {
      assertAgrees(text);
    }
  }

  /**
   * A fraction finer than a microsecond is rounded up: the source compares {@code since} as an
   * instant, so a record after {@code since} at whole microsecond {@code c} must have a cursor above c.
   */
  @Test
  void aFractionFinerThanAMicrosecondIsRoundedUp() {
    assertEquals(1_704_067_200_000_001L, Timestamps.parseMicros("2024-01-01T00:00:00.0000005Z"));
    assertEquals(1_704_067_200_123_457L, Timestamps.parseMicros("2024-01-01T00:00:00.123456001Z"));
    assertEquals(1_704_063_600_123_457L, Timestamps.parseMicros("2024-01-01T00:00:00.123456789+01:00"));
    assertEquals(0L, Timestamps.parseMicros("1969-12-31T23:59:59.9999995Z"));
    assertEquals(-1L, Timestamps.parseMicros("1969-12-31T23:59:59.9999985Z"));
    assertEquals(1_704_067_200_000_000L, Timestamps.parseMicros("2024-01-01T00:00:00.000000000Z"));
  }

  @Test
  void malformedIsRejectedAsJavaTimeRejectsIt() {
    for (String text : List.of(
        "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z",
        "2024-01-01T00:00:60Z", "2024-01-01T00:00:00+19:00", "2024-01-01T00:00:00+18:30",
        "2024-01-01T00:00:00", "2024-01-01 00:00:00Z", "2024-0a-01T00:00:00Z", "2024-01-01T00:00:00+0a:00",
        "2024-01-01T00:00:00.1234567890Z", "", "yesterday")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Timestamps.parseMicros(text));
      assertEquals(assertThrows(IllegalArgumentException.class, () -> Timestamps.parse(text)).getMessage(),
          e.getMessage());
    }
  }

  private static void assertAgrees(String text) {
    assertEquals(Timestamps.toMicros(Timestamps.parse(text)), Timestamps.parseMicros(text), text);
  }
}
