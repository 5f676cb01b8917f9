package com.example.connector.read;

import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;

/**
 * The shared base of the two cursor reads ({@link ReadCursorFn}, {@link ReadWindowsFn}): each
 * reads one {@link FeedRange}, whose cursor microseconds are its initial restriction (cut by
 * {@link SplitFeedFn} before the reshuffle, so this DoFn does not split it again), tracked by
 * Beam's {@link OffsetRangeTracker}, with a {@link CursorGroupReader} per call.
 */
public abstract class FeedRangeReadFn extends SourceReadFn<FeedRange> {

  protected FeedRangeReadFn(ReadContext context) {
    super(context);
  }

  @GetInitialRestriction
  public OffsetRange initialRestriction(@Element FeedRange range) {
    return range.range();
  }

  @GetRestrictionCoder
  public Coder<OffsetRange> restrictionCoder() {
    return OffsetRange.Coder.of();
  }

  @NewTracker
  public OffsetRangeTracker newTracker(@Restriction OffsetRange range) {
    return new OffsetRangeTracker(range);
  }

  protected CursorGroupReader<GenericRecord> reader(
      CursorFeed feed,
      RestrictionTracker<OffsetRange, Long> tracker,
      OutputReceiver<List<GenericRecord>> out) {
    return new CursorGroupReader<>(
        client,
        feed,
        context.table().cursorField(),
        context.table().identityField(),
        tracker,
        rows(out, feed.operation(), feed.maxRecordsPerBatch()),
        pages);
  }
}
