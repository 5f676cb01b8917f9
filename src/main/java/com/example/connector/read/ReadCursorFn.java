package com.example.connector.read;

import com.example.connector.read.CursorGroupReader.Outcome;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.DoFn.BoundedPerElement;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;

/**
 * Reads one cursor feed ({@link CursorFeed}): the append table ({@code events}, with its
 * per-call {@code limit}), the CDC tables ({@code users}, {@code orders}) and orders' tombstones.
 *
 * <p><b>Restriction.</b> An {@link OffsetRange} of cursor values in microseconds since the epoch,
 * {@code [from, cap)}: {@code from} is the cursor the previous run committed (it read everything
 * below it), or the oldest record on a first run; {@code cap} is the source's clock when the run
 * started, so every run ends, and a record written while it runs has a cursor at or above the cap
 * and is read by the next run. Positions are claimed with Beam's {@link OffsetRangeTracker}, one
 * per cursor value, by {@link CursorGroupReader}: a position stands for every record that shares
 * that cursor value (a tie group), so ties are never cut.
 *
 * <p><b>Splitting and checkpointing.</b> The initial restriction is not split: the source has no
 * upper bound parameter for these feeds, so parallel sub-ranges would each page to the end.
 * After {@code max_records_per_batch} records (rounded up to a whole tie group) the DoFn
 * checkpoints itself by returning {@code resume()}: the residual {@code [last claimed + 1, cap)}
 * restarts with {@code since = last claimed}, so a failure re-reads at most one batch. Runners
 * may also checkpoint or split at any claimed position; both are safe for the same reason.
 *
 * <p><b>Size and watermark.</b> The size is the tracker's: the cursor span left, in
 * microseconds, which orders the work but does not count records. The read is bounded; it
 * emits no watermark of its own.
 */
@BoundedPerElement
public class ReadCursorFn extends CursorReadFn {

  public ReadCursorFn(ReadContext context) {
    super(context);
  }

  @ProcessElement
  public ProcessContinuation process(
      @Element CursorFeed feed,
      RestrictionTracker<OffsetRange, Long> tracker,
      OutputReceiver<List<GenericRecord>> out) {
    OffsetRange range = tracker.currentRestriction();
    CursorGroupReader<GenericRecord> reader = reader(feed, tracker, out);
    Outcome outcome = reader.read(range.getFrom(), null);
    if (outcome == Outcome.BATCH_FULL) {
      return ProcessContinuation.resume();
    }
    if (outcome == Outcome.EXHAUSTED) {
      reader.claim(tracker.currentRestriction().getTo()); // past the end: marks the range done
    }
    return ProcessContinuation.stop();
  }
}
