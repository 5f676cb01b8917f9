package com.example.connector.read;

import java.io.Serializable;
import java.util.List;
import org.apache.beam.sdk.io.range.OffsetRange;

/**
 * Sub-ranges of one feed's run, each {@code [from, to)} of cursor values, that one worker reads
 * side by side: the element of a cursor read ({@link FeedRangeReadFn}), after {@link SplitFeedFn}
 * cut the feed and grouped its pieces, and a reshuffle spread the groups over workers.
 */
public record FeedRanges(CursorFeed feed, List<OffsetRange> ranges) implements Serializable {

  public FeedRanges {
    ranges = List.copyOf(ranges);
  }

  /** The ranges as the read's restriction. */
  public LaneSet<OffsetRange> restriction() {
    return new LaneSet<>(ranges);
  }
}
