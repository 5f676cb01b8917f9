package com.example.connector.read;

import java.util.List;
import org.apache.beam.sdk.io.range.OffsetRange;

/**
 * Cuts each feed's run {@code [from, cap)} ({@link CursorRanges#initial}) into sub-ranges of
 * about equal record counts, found by probing ({@link CursorRanges#byRecords}; a windowed feed's
 * on window boundaries), dealt into groups that a worker reads side by side ({@link
 * FeedRangeReadFn}), so one group keeps several calls in flight, and the groups spread the feed
 * over workers (with dynamic splitting, on Dataflow, over more).
 */
public final class SplitFeedFn extends SplitRangesFn<CursorFeed, OffsetRange, FeedRanges> {
  private int minPagesPerSplit = CursorRanges.MIN_PAGES_PER_SPLIT;

  public SplitFeedFn(ReadContext context) {
    super(context);
  }

  /** Cuts at least {@code pages} pages apart instead; for tests whose feeds hold a few pages. */
  SplitFeedFn cuttingEvery(int pages) {
    this.minPagesPerSplit = pages;
    return this;
  }

  /** The feed's sub-ranges, in cursor order; together exactly its run {@code [from, cap)}. */
  @Override
  List<OffsetRange> split(CursorFeed feed) {
    String cursorField = context.table().cursorField();
    OffsetRange run = CursorRanges.initial(client, feed, cursorField);
    return CursorRanges.byRecords(client, feed, cursorField, run, maxRanges(), minPagesPerSplit, calls.pages(), parallel);
  }

  @Override
  FeedRanges group(CursorFeed feed, List<OffsetRange> ranges) {
    return new FeedRanges(feed, ranges);
  }
}
