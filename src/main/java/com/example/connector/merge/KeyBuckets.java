package com.example.connector.merge;

import java.io.Serializable;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TypeDescriptors;

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
  private final PCollectionView<Integer> buckets;

  private KeyBuckets(List<String> keys, PCollectionView<Integer> buckets) {
    this.keys = List.copyOf(keys);
    this.buckets = buckets;
  }

  /**
   * Buckets sized for all of {@code rows} together (a merge's committed rows and changes): one
   * count of them all, in one combine, so that the merge waits on one stage for it, not on a
   * count per input and their sum.
   */
  static KeyBuckets sizedFor(List<String> keys, List<PCollection<GenericRecord>> rows, long rowsPerBucket) {
    PCollectionList<Long> ones = PCollectionList.empty(rows.get(0).getPipeline());
    for (int i = 0; i < rows.size(); i++) {
      ones = ones.and(rows.get(i).apply("Rows " + i, MapElements.into(TypeDescriptors.longs()).via(row -> 1L)));
    }
    PCollectionView<Integer> buckets = ones
        .apply("All rows", Flatten.pCollections())
        .apply("Buckets", Combine.globally(new BucketCount(rowsPerBucket)).asSingletonView());
    return new KeyBuckets(keys, buckets);
  }

  /** The number of buckets for the rows counted: one per {@code rowsPerBucket} rows, at least one. */
  private static final class BucketCount extends Combine.CombineFn<Long, Long, Integer> {
    private final long rowsPerBucket;

    BucketCount(long rowsPerBucket) {
      this.rowsPerBucket = rowsPerBucket;
    }

    @Override
    public Long createAccumulator() {
      return 0L;
    }

    @Override
    public Long addInput(Long rows, Long row) {
      return rows + row;
    }

    @Override
    public Long mergeAccumulators(Iterable<Long> counts) {
      long all = 0;
      for (long c : counts) {
        all += c;
      }
      return all;
    }

    @Override
    public Integer extractOutput(Long rows) {
      return (int) Math.max(1, (rows + rowsPerBucket - 1) / rowsPerBucket);
    }

    @Override
    public Coder<Long> getAccumulatorCoder(CoderRegistry registry, Coder<Long> input) {
      return VarLongCoder.of();
    }
  }

  /** {@code rows} keyed by their bucket, ready for a GroupByKey. */
  PCollection<KV<Integer, GenericRecord>> assign(String name, PCollection<GenericRecord> rows, Schema schema) {
    return rows.apply(name, ParDo.of(new AssignFn(keys, buckets)).withSideInputs(buckets))
        .setCoder(KvCoder.of(VarIntCoder.of(), AvroCoder.of(schema)));
  }

  private static final class AssignFn extends DoFn<GenericRecord, KV<Integer, GenericRecord>> {
    private final List<String> keys;
    private final PCollectionView<Integer> buckets;

    AssignFn(List<String> keys, PCollectionView<Integer> buckets) {
      this.keys = keys;
      this.buckets = buckets;
    }

    @ProcessElement
    public void process(@Element GenericRecord row, OutputReceiver<KV<Integer, GenericRecord>> out,
        ProcessContext context) {
      int bucket = Math.floorMod(MergeChanges.keyOf(row, keys).hashCode(), context.sideInput(buckets));
      out.output(KV.of(bucket, row));
    }
  }
}
