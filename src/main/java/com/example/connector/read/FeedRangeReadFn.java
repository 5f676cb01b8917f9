package com.example.connector.read;

import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;

/**
 * The shared base of the two cursor reads ({@link ReadCursorFn}, {@link ReadWindowsFn}): each
 * element is several sub-ranges of one feed ({@link FeedRanges}), read side by side so that calls
 * are in flight on every sub-range at once, whatever the runner's thread count.
 *
 * <p><b>Restriction.</b> A {@link LaneSet} of the sub-ranges' cursor microseconds (cut by {@link
 * SplitFeedFn} before the reshuffle, so this DoFn does not split them again), tracked by {@link
 * LaneSetTracker} with Beam's {@link OffsetRangeTracker} for each range.
 *
 * <p><b>Concurrency and checkpointing</b> are {@link Lanes}': one lane per sub-range, each
 * reading its range with a {@link CursorGroupReader}; a group holds as many sub-ranges as the
 * connection may have calls in flight, so one element keeps the call budget busy. After {@value
 * SourceReadFn#CHECKPOINT_AFTER_SECONDS} s of reading, each lane stops before its next call and the DoFn
 * returns {@code resume()}; the residual restarts each range after its last claim.
 *
 * <p><b>Splitting</b> is the runner's, through the tracker: a split gives away ranges not yet
 * started, or cuts the range with the most left, keeping in the primary what each range claimed,
 * so a lane whose range was cut stops at its next claim.
 */
public abstract class FeedRangeReadFn extends SourceReadFn<FeedRanges> {
  /** A claim is a cursor value: it falls in a range below the range's end. */
  private static final Lanes.Ranges<OffsetRange, Long> CURSOR_RANGES = new Lanes.Ranges<>() {
    @Override
    public boolean holds(OffsetRange range, Long cursor) {
      return cursor < range.getTo();
    }

    @Override
    public boolean isEmpty(OffsetRange range) {
      return range.getFrom() >= range.getTo();
    }
  };

  protected FeedRangeReadFn(ReadContext context) {
    super(context);
  }

  @GetInitialRestriction
  public LaneSet<OffsetRange> initialRestriction(@Element FeedRanges element) {
    return element.restriction();
  }

  @GetRestrictionCoder
  public Coder<LaneSet<OffsetRange>> restrictionCoder() {
    return LaneSet.coder(OffsetRange.Coder.of());
  }

  @NewTracker
  public LaneSetTracker<OffsetRange, Long> newTracker(@Restriction LaneSet<OffsetRange> restriction) {
    return laneTracker(restriction, OffsetRangeTracker::new);
  }

  /** Reads range {@code range} to its end, or until a claim fails; rows go to {@code reader}'s sink. */
  protected abstract void readRange(CursorFeed feed, RestrictionTracker<OffsetRange, Long> range,
      CursorGroupReader<GenericRecord> reader);

  @ProcessElement
  public ProcessContinuation process(
      @Element FeedRanges element,
      RestrictionTracker<LaneSet<OffsetRange>, LaneSet.Claim<Long>> tracker,
      OutputReceiver<List<GenericRecord>> out) {
    CursorFeed feed = element.feed();
    return lanes(CURSOR_RANGES).read(tracker, batchRows(feed.maxRecordsPerBatch()), out,
            (range, lane, pause) -> readRange(feed, range, reader(feed, range, lane, pause)));
  }

  private CursorGroupReader<GenericRecord> reader(CursorFeed feed, RestrictionTracker<OffsetRange, Long> range,
      OutputReceiver<List<GenericRecord>> out, BooleanSupplier pause) {
    return new CursorGroupReader<>(
        client,
        feed,
        context.table().cursorField(),
        context.table().identityField(),
        range,
        rows(out, feed.operation(), feed.maxRecordsPerBatch()),
        pages,
        pause);
  }
}
