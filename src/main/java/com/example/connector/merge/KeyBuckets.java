package com.example.connector.merge;

import java.io.Serializable;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionView;

/**
 * Gathers rows by the hash of their primary key into buckets of about {@link #ROWS_PER_BUCKET}
 * rows on average: every row of a key lands in the same bucket, and a bucket is what the merge
 * holds in memory at once. The number of buckets is counted from the rows given to {@link
 * #sizedFor} (a side input), so a bucket stays near that size however many rows are merged; only
 * a key with more rows than that makes its bucket larger.
 *
 * <p>Why buckets and not a group per key: the DirectRunner evaluates what follows a GroupByKey
 * one key per bundle, at a few milliseconds each, and the staging writes one file per bundle;
 * grouped by primary key, 100,000 products took ten minutes and became 100,000 files.
 */
final class KeyBuckets implements Serializable {
  static final long ROWS_PER_BUCKET = 10_000;

  private final List<String> keys;
  /** How many rows the buckets share. */
  private final PCollectionView<Long> rowCount;
  private final long rowsPerBucket;

  private KeyBuckets(List<String> keys, PCollectionView<Long> rowCount, long rowsPerBucket) {
    this.keys = List.copyOf(keys);
    this.rowCount = rowCount;
    this.rowsPerBucket = rowsPerBucket;
  }

  /**
   * Buckets sized for all of {@code rows} together (a merge's committed rows and changes): a count
   * of each input, their sum as a singleton view. Counted per input before the flatten, not as a
   * flatten of the rows: the DirectRunner never ended a run whose inputs were both empty (a run in
   * which nothing changed: it went round its timers for ever), while a count emits its 0.
   */
  static KeyBuckets sizedFor(List<String> keys, List<PCollection<GenericRecord>> rows, long rowsPerBucket) {
    PCollectionList<Long> counts = PCollectionList.empty(rows.get(0).getPipeline());
    for (int i = 0; i < rows.size(); i++) {
      counts = counts.and(rows.get(i).apply("Rows " + i, Count.globally()));
    }
    PCollectionView<Long> count = counts
        .apply("All rows", Flatten.pCollections())
        .apply("Sum", Combine.globally(Sum.ofLongs()).asSingletonView());
    return new KeyBuckets(keys, count, rowsPerBucket);
  }

  /** {@code rows} keyed by their bucket, ready for a GroupByKey. */
  PCollection<KV<Integer, GenericRecord>> assign(String name, PCollection<GenericRecord> rows, Schema schema) {
    return rows.apply(name, ParDo.of(new AssignFn(keys, rowCount, rowsPerBucket)).withSideInputs(rowCount))
        .setCoder(KvCoder.of(VarIntCoder.of(), AvroCoder.of(schema)));
  }

  private static final class AssignFn extends DoFn<GenericRecord, KV<Integer, GenericRecord>> {
    private final List<String> keys;
    private final PCollectionView<Long> rowCount;
    private final long rowsPerBucket;

    AssignFn(List<String> keys, PCollectionView<Long> rowCount, long rowsPerBucket) {
      this.keys = keys;
      this.rowCount = rowCount;
      this.rowsPerBucket = rowsPerBucket;
    }

    @ProcessElement
    public void process(@Element GenericRecord row, OutputReceiver<KV<Integer, GenericRecord>> out,
        ProcessContext context) {
      int buckets = (int) Math.max(1, (context.sideInput(rowCount) + rowsPerBucket - 1) / rowsPerBucket);
      int bucket = Math.floorMod(MergeChanges.keyOf(row, keys).hashCode(), buckets);
      out.output(KV.of(bucket, row));
    }
  }
}
