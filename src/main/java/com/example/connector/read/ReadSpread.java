package com.example.connector.read;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * A table read in parallel, on every runner: a split DoFn cuts each read (a cursor feed, a
 * snapshot) into ranges and deals them into up to {@value #GROUPS} groups ({@link SplitFeedFn},
 * {@link SplitSnapshotFn}), a reshuffle keyed by the group's index spreads the groups over
 * workers (a fusion break on Dataflow), and the read DoFn reads each group's ranges side by side
 * as one element ({@link Lanes}, {@link ReadRows}), still splittable by the runner.
 *
 * <p>A split DoFn rather than the read's {@code @SplitRestriction}: where a runner places the
 * splits of one element is up to its Splittable DoFn expansion (one Flink batch subtask was seen
 * reading all of a table's windows), while elements behind a reshuffle are spread on every
 * runner. The split's probes run once per read.
 *
 * <p>On Flink batch the groups land on subtasks at random, not by their index: Beam's bounded
 * Splittable DoFn expansion there ({@code SplittableParDoNaiveBounded}) reshuffles each element
 * again by a random unique key before reading it. Four groups on two subtasks all land on one in
 * about one run of eight (seen in one of three first runs of {@code users}, which then wrote one
 * file), three on one in one run of two. On the embedded cluster that costs no time while each
 * group fills the call budget (the JVM's, whichever subtask makes the calls); a subtask reads its
 * groups one after another, so a smaller read is dealt into fewer groups ({@link SplitRangesFn}).
 */
public final class ReadSpread<ReadT, GroupT> extends PTransform<PCollection<ReadT>, PCollection<GenericRecord>> {
  /** The most groups a read is dealt into: enough for the workers of a small cluster. */
  static final int GROUPS = 4;

  private final DoFn<ReadT, KV<Integer, GroupT>> split;
  private final Coder<GroupT> groupCoder;
  private final SourceReadFn<GroupT> read;
  private final String schemaJson;

  private ReadSpread(DoFn<ReadT, KV<Integer, GroupT>> split, Coder<GroupT> groupCoder, SourceReadFn<GroupT> read,
      Schema rowSchema) {
    this.split = split;
    this.groupCoder = groupCoder;
    this.read = read;
    this.schemaJson = rowSchema.toString();
  }

  /** A table's cursor feeds, cut by their records. */
  public static ReadSpread<CursorFeed, FeedRanges> feeds(FeedRangeReadFn read, Schema rowSchema) {
    return new ReadSpread<>(new SplitFeedFn(read.context), SerializableCoder.of(FeedRanges.class), read, rowSchema);
  }

  /** A snapshot, cut by its primary keys. */
  public static ReadSpread<SnapshotRead, SnapshotRanges> snapshot(ReadSnapshotPagesFn read, Schema rowSchema) {
    return new ReadSpread<>(new SplitSnapshotFn(read.context), SerializableCoder.of(SnapshotRanges.class), read, rowSchema);
  }

  @Override
  public PCollection<GenericRecord> expand(PCollection<ReadT> reads) {
    return reads
        .apply("Split", ParDo.of(split))
        .setCoder(KvCoder.of(VarIntCoder.of(), groupCoder))
        .apply("Spread", Reshuffle.of())
        .apply("Ranges", Values.create())
        .apply("Read", new ReadRows<>(read, new Schema.Parser().parse(schemaJson)));
  }
}
