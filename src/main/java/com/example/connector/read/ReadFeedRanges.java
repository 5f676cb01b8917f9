package com.example.connector.read;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.values.PCollection;

/**
 * A table's cursor feeds read in parallel: each feed is cut into sub-ranges, grouped ({@link
 * SplitFeedFn}), a reshuffle keyed by the group's index spreads the groups over workers (a hash
 * partition on Flink batch, a fusion break on Dataflow), and the read DoFn reads each group's
 * ranges side by side as one element ({@link ReadRows}), still splittable by the runner.
 */
public final class ReadFeedRanges extends PTransform<PCollection<CursorFeed>, PCollection<GenericRecord>> {
  private final FeedRangeReadFn fn;
  private final String schemaJson;

  public ReadFeedRanges(FeedRangeReadFn fn, Schema rowSchema) {
    this.fn = fn;
    this.schemaJson = rowSchema.toString();
  }

  @Override
  public PCollection<GenericRecord> expand(PCollection<CursorFeed> feeds) {
    return feeds
        .apply("Split", ParDo.of(new SplitFeedFn(fn.context)))
        .setCoder(KvCoder.of(VarIntCoder.of(), SerializableCoder.of(FeedRanges.class)))
        .apply("Spread", Reshuffle.of())
        .apply("Ranges", Values.create())
        .apply("Read", new ReadRows<>(fn, new Schema.Parser().parse(schemaJson)));
  }
}
