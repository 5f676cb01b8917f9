package com.example.connector.read;

import com.example.connector.client.ExampleClient;
import org.apache.beam.sdk.io.range.OffsetRange;

/** Where a cursor feed's read starts and ends in this run. */
final class CursorRanges {
  private CursorRanges() {}

  /**
   * {@code [from, cap)}: from the committed cursor, else {@code start_timestamp}, else the
   * feed's oldest record; an empty range at the cap when there is nothing to read.
   */
  static OffsetRange initial(ExampleClient client, CursorFeed feed, String cursorField) {
    Long from = feed.fromMicros() != null ? feed.fromMicros() : feed.startMicros();
    if (from == null) {
      from = CursorGroupReader.firstCursorAfter(client, feed, cursorField, null);
    }
    long cap = feed.capMicros();
    return from == null || from >= cap ? new OffsetRange(cap, cap) : new OffsetRange(from, cap);
  }
}
