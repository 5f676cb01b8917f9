package com.example.connector.merge;

import java.io.Serializable;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.CombineFns.CoCombineResult;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.SerializableFunctions;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Gathers rows by the hash of their primary key into buckets of about {@link #ROWS_PER_BUCKET}
 * rows on average: every row of a key lands in the same bucket, and a bucket is what the merge
 * holds in memory at once. The number of buckets is counted from the rows given to {@link
 * #sizedFor}, or estimated from an SCD type 1 merge's count of changes ({@link #sizedForChanges}),
 * a side input either way ({@code T}, what the count is read from), so a bucket stays near that
 * size however many rows are merged; only a key with more rows than that makes its bucket larger.
 *
 * <p>Why buckets and not a group per key: the DirectRunner evaluates what follows a GroupByKey
 * one key per bundle, at a few milliseconds each, and the staging writes one file per bundle;
 * grouped by primary key, 100,000 products took ten minutes and became 100,000 files.
 */
final class KeyBuckets<T> implements Serializable {
  static final long ROWS_PER_BUCKET = 10_000;

  private final List<String> keys;
  /** The side input holding the count: of the rows, or of the changes the rows are estimated from. */
  private final PCollectionView<T> count;
  /** How many rows the buckets share, given the count. */
  private final SerializableFunction<T, Long> rows;
  private final long rowsPerBucket;

  private KeyBuckets(List<String> keys, PCollectionView<T> count, SerializableFunction<T, Long> rows,
      long rowsPerBucket) {
    this.keys = List.copyOf(keys);
    this.count = count;
    this.rows = rows;
    this.rowsPerBucket = rowsPerBucket;
  }

  /**
   * Buckets sized for all of {@code rows} together (a merge's committed rows and changes): a count
   * of each input, their sum as a singleton view. Counted per input before the flatten, not as a
   * flatten of the rows: the DirectRunner never ended a run whose inputs were both empty (a run in
   * which nothing changed: it went round its timers for ever), while a count emits its 0.
   */
  static KeyBuckets<Long> sizedFor(List<String> keys, List<PCollection<GenericRecord>> rows, long rowsPerBucket) {
    PCollectionList<Long> counts = PCollectionList.empty(rows.get(0).getPipeline());
    for (int i = 0; i < rows.size(); i++) {
      counts = counts.and(rows.get(i).apply("Rows " + i, Count.globally()));
    }
    PCollectionView<Long> count = counts
        .apply("All rows", Flatten.pCollections())
        .apply("Sum", Combine.globally(Sum.ofLongs()).asSingletonView());
    return new KeyBuckets<>(keys, count, SerializableFunctions.identity(), rowsPerBucket);
  }

  /**
   * Buckets sized for an SCD type 1 merge of changes into a table of {@code tableRows} rows, from
   * only the count of changes (at {@code changeCount} in the changes' {@code summaries}), so that
   * the committed rows are bucketed as they are read rather than after all of them are counted:
   * each changed key meets at most one committed row, and the changed keys' filter passes a share
   * of the table's other rows on too ({@link #changesAndCommittedRows}).
   */
  static KeyBuckets<CoCombineResult> sizedForChanges(List<String> keys, PCollectionView<CoCombineResult> summaries,
      TupleTag<Long> changeCount, long tableRows, long rowsPerBucket) {
    return new KeyBuckets<>(keys, summaries, s -> changesAndCommittedRows(s.get(changeCount), tableRows),
        rowsPerBucket);
  }

  /**
   * The rows such a merge gathers: its changes, the committed row of each changed key, and the
   * filter's false positives among the table's rows (a few percent up to a million changed keys;
   * past that, most of the table).
   */
  static long changesAndCommittedRows(long changes, long tableRows) {
    double falsePositives = ChangedKeys.falsePositiveRate(changes, ChangedKeys.DEFAULT_BITS) * tableRows;
    return changes + Math.min(tableRows, changes + (long) Math.ceil(falsePositives));
  }

  /** {@code rows} keyed by their bucket, ready for a GroupByKey. */
  PCollection<KV<Integer, GenericRecord>> assign(String name, PCollection<GenericRecord> rows, Schema schema) {
    return rows.apply(name, ParDo.of(new AssignFn<>(keys, count, this.rows, rowsPerBucket)).withSideInputs(count))
        .setCoder(KvCoder.of(VarIntCoder.of(), AvroCoder.of(schema)));
  }

  private static final class AssignFn<T> extends DoFn<GenericRecord, KV<Integer, GenericRecord>> {
    private final List<String> keys;
    private final PCollectionView<T> count;
    private final SerializableFunction<T, Long> rows;
    private final long rowsPerBucket;

    AssignFn(List<String> keys, PCollectionView<T> count, SerializableFunction<T, Long> rows,
        long rowsPerBucket) {
      this.keys = keys;
      this.count = count;
      this.rows = rows;
      this.rowsPerBucket = rowsPerBucket;
    }

    @ProcessElement
    public void process(@Element GenericRecord row, OutputReceiver<KV<Integer, GenericRecord>> out,
        ProcessContext context) {
      long sized = rows.apply(context.sideInput(count));
      int buckets = (int) Math.min(Integer.MAX_VALUE, Math.max(1, (sized + rowsPerBucket - 1) / rowsPerBucket));
      int bucket = Math.floorMod(MergeChanges.keyOf(row, keys).hashCode(), buckets);
      out.output(KV.of(bucket, row));
    }
  }
}
