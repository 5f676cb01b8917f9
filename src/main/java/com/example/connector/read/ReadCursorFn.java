package com.example.connector.read;

import com.example.connector.read.CursorGroupReader.Outcome;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.DoFn.BoundedPerElement;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;

/**
 * Reads the sub-ranges of a cursor feed ({@link FeedRanges}) with {@code since} alone: the append
 * table ({@code events}, with its per-call {@code limit}), the CDC tables ({@code users},
 * {@code orders}, with their filters) and orders' tombstones. ({@link ReadWindowsFn} reads
 * {@code metrics}, window by window with {@code until}.)
 *
 * <p><b>Restriction.</b> Per sub-range of the element (a range of its {@link LaneSet}, each read
 * in its own lane, {@link FeedRangeReadFn}), an {@link OffsetRange} of cursor values in
 * microseconds since the epoch: {@code [a, b)} of the run's {@code [from, cap)}. {@code from} is the
 * cursor the previous run committed (it read everything below it), or the oldest record on a
 * first run; {@code cap} is the source's clock when the run started, so every run ends. Positions
 * are claimed, one per cursor value, by {@link CursorGroupReader}, as on Beam's {@link
 * OffsetRangeTracker}: a position stands for every record that shares that cursor value (a tie
 * group), so ties are never cut.
 *
 * <p><b>Splitting.</b> {@link SplitFeedFn} cuts {@code [from, cap)} into sub-ranges of about
 * equal record counts, at cursor values, by probing the feed ({@link CursorRanges#byRecords}:
 * a few rounds of calls made side by side) and deals them into groups of as many ranges as the
 * connection may have calls in flight, before a reshuffle spreads the groups over workers. The
 * source has no upper bound parameter for these feeds, but each is sorted by cursor: a sub-range
 * is read with {@code since = a - 1 µs} and its reader stops at its first claim {@code >= b}
 * (the claim fails; no record of that group is output). Runners may split further at any
 * position above the last claim, for the same reason.
 *
 * <p><b>Checkpointing.</b> Rows leave in batches of at most {@code max_records_per_batch}
 * ({@link SourceReadFn}). The DoFn checkpoints itself every few seconds, between calls ({@link
 * FeedRangeReadFn}): the residual {@code [last claimed + 1, b)} restarts with {@code since = last
 * claimed}. (A checkpoint per batch made the DirectRunner spend its CPU on bundles, and write a
 * file per 200 rows.)
 *
 * <p><b>Why no record is lost or doubled while records change.</b> The sub-ranges and their
 * splits partition {@code [from, cap)}, and a record is output only by the reader whose range
 * holds its cursor when read. The source stamps every write with its clock, at or above the cap:
 * a record updated (or deleted, which appends a tombstone at its time of deletion) during the run
 * leaves every range of this run, never enters another, and is read by the next run, after its
 * old version, if some reader got to it first. A record that leaves a page moves later pages
 * back, which {@link CursorGroupReader} survives by re-basing {@code since} after every page.
 *
 * <p><b>Size and watermark.</b> The size is the tracker's: the cursor span left, in
 * microseconds, which orders the work but does not count records. The read is bounded; it
 * emits no watermark of its own.
 */
@BoundedPerElement
public class ReadCursorFn extends FeedRangeReadFn {

  public ReadCursorFn(ReadContext context) {
    super(context);
  }

  @Override
  protected void readRange(CursorFeed feed, RestrictionTracker<OffsetRange, Long> range,
      CursorGroupReader<GenericRecord> reader) {
    if (reader.read(range.currentRestriction().getFrom(), null) == Outcome.EXHAUSTED) {
      reader.claim(range.currentRestriction().getTo()); // past the end: marks the range done
    }
  }
}
