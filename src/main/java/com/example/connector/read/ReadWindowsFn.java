package com.example.connector.read;

import com.example.connector.read.CursorGroupReader.Outcome;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.DoFn.BoundedPerElement;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;

/**
 * Reads a time-windowed feed ({@code metrics}): the source is asked one window of
 * {@code window_seconds} at a time with {@code since} and {@code until}.
 *
 * <p><b>Restriction.</b> Per sub-range of the element (a range of its {@link LaneSet}, each read
 * in its own lane, {@link FeedRangeReadFn}), an {@link OffsetRange} of cursor values in
 * microseconds of the run's {@code [from, cap)}, where {@code from} is the
 * committed cursor, else the {@code start_timestamp} option, else the oldest record, and
 * {@code cap} the source's clock at the run's start. Windows are laid from the restriction's start; inside a window,
 * {@link CursorGroupReader} claims one position per cursor value, as on Beam's
 * {@link OffsetRangeTracker}, and when a window is exhausted its last position is claimed too, so
 * empty windows still make progress. After an empty window the next window starts at the next
 * record's cursor (one call without {@code until}), so sparse data is not read window by window;
 * the empty window and the stretch up to that record are claimed together once that call returns.
 *
 * <p><b>Splitting.</b> {@link SplitFeedFn} cuts the run's range into up to {@value
 * ReadSpread#GROUPS} times {@code max_concurrent_requests} sub-ranges of about equal record
 * counts, found by probing the feed ({@link CursorRanges#byRecords}), each cut moved down to a window boundary, so each
 * sub-range is whole windows; they are dealt into groups, a reshuffle spreads the groups over
 * workers, and each group is this DoFn's element. Every query is bounded by its window, so sub-ranges never
 * read each other's records. (Cut by time alone, a first run from the oldest record to the cap
 * put every record of a table written in a few hours into the first of 16 sub-ranges.) Runners may split further (dynamic splitting) at any position above the last claim;
 * the primary then stops at its first claim past the split point, and the residual starts its
 * own windows there.
 *
 * <p><b>Checkpointing.</b> As {@link ReadCursorFn}: rows leave in batches of at most {@code
 * max_records_per_batch}, the DoFn checkpoints itself every few seconds between calls, and the
 * residual starts after the last claimed cursor.
 *
 * <p><b>Size and watermark.</b> The size is the tracker's: the time span left, in microseconds,
 * which orders the work but does not count records. The read is
 * bounded; it emits no watermark of its own.
 */
@BoundedPerElement
public class ReadWindowsFn extends FeedRangeReadFn {
  public ReadWindowsFn(ReadContext context) {
    super(context);
  }

  @Override
  protected void readRange(CursorFeed feed, RestrictionTracker<OffsetRange, Long> tracker,
      CursorGroupReader<GenericRecord> reader) {
    long windowStart = tracker.currentRestriction().getFrom();
    while (true) {
      long end = tracker.currentRestriction().getTo(); // shrinks when the runner splits
      if (windowStart >= end) {
        reader.claim(end); // past the end: marks the range done
        return;
      }
      long windowEnd = Math.min(windowStart + feed.windowMicros(), end);
      long emittedBefore = reader.emitted();
      Outcome outcome = reader.read(windowStart, windowEnd);
      if (outcome == Outcome.STOPPED) {
        return;
      }
      if (reader.emitted() > emittedBefore) {
        windowStart = windowEnd;
      } else {
        // An empty window: jump to the next record's cursor in one call, so a sparse stretch of
        // time costs one request instead of one per window. The stretch is claimed with the window
        // once the call returns: claimed before it, a checkpoint during a slow call kept this window only.
        Long next = reader.nextCursorAfter(windowEnd - 1);
        windowStart = next == null ? end : Math.min(next, end);
      }
      if (!reader.claim(windowStart - 1)) { // the window is done, even if it was empty
        return;
      }
    }
  }
}
