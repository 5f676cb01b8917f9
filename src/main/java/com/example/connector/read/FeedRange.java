package com.example.connector.read;

import java.io.Serializable;
import org.apache.beam.sdk.io.range.OffsetRange;

/**
 * One sub-range of a feed's run, {@code [fromMicros, toMicros)} of cursor values: the element
 * that a cursor read (a {@link FeedRangeReadFn}) reads, after {@link SplitFeedFn} cut the feed
 * and a reshuffle spread the pieces over workers.
 */
public record FeedRange(CursorFeed feed, long fromMicros, long toMicros) implements Serializable {

  public FeedRange {
    if (fromMicros > toMicros) {
      throw new IllegalArgumentException("a feed range ends before it starts: [" + fromMicros + ", " + toMicros + ")");
    }
  }

  /** The range as the read's restriction. */
  public OffsetRange range() {
    return new OffsetRange(fromMicros, toMicros);
  }
}
