package com.example.connector.read;

import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;

/**
 * What the two cursor-ordered reads share: the restriction {@code [from, cap)} of cursor
 * microseconds (see {@link CursorRanges#initial}), Beam's {@link OffsetRangeTracker} over it, and
 * a {@link CursorGroupReader} per call.
 */
public abstract class CursorReadFn extends SourceReadFn<CursorFeed> {

  protected CursorReadFn(ReadContext context) {
    super(context);
  }

  @GetInitialRestriction
  public OffsetRange initialRestriction(@Element CursorFeed feed) {
    return CursorRanges.initial(client, feed, context.table().cursorField());
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
        rows(out, feed.operation()),
        pages);
  }
}
