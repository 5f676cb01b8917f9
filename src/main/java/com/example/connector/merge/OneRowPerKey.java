package com.example.connector.merge;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * Keeps one row per primary key of a snapshot read (a row read twice because pages shifted
 * while products were inserted), so that the change feed holds each row once. Rows are gathered
 * into {@link KeyBuckets}, and each bucket passes its rows on, skipping a key it has seen (it
 * holds the bucket's keys, not its rows).
 *
 * <p>Not {@code Distinct} on the key: that groups by every key, and the DirectRunner evaluates
 * each group's downstream steps as a bundle of its own: 20,000 products took minutes.
 */
public final class OneRowPerKey extends PTransform<PCollection<GenericRecord>, PCollection<GenericRecord>> {
  private final List<String> keys;
  private final String schemaJson;

  public OneRowPerKey(List<String> keys, Schema rowSchema) {
    this.keys = List.copyOf(keys);
    this.schemaJson = rowSchema.toString();
  }

  @Override
  public PCollection<GenericRecord> expand(PCollection<GenericRecord> rows) {
    Schema schema = new Schema.Parser().parse(schemaJson);
    return KeyBuckets.sizedFor(keys, List.of(rows), KeyBuckets.ROWS_PER_BUCKET)
        .assign("Bucket by key", rows, schema)
        .apply("Gather buckets", GroupByKey.create())
        .apply("First per key", ParDo.of(new FirstPerKey(keys)))
        .setCoder(AvroCoder.of(schema));
  }

  private static final class FirstPerKey extends DoFn<KV<Integer, Iterable<GenericRecord>>, GenericRecord> {
    private final List<String> keys;

    FirstPerKey(List<String> keys) {
      this.keys = keys;
    }

    @ProcessElement
    public void process(@Element KV<Integer, Iterable<GenericRecord>> bucket, OutputReceiver<GenericRecord> out) {
      Set<String> seen = new HashSet<>();
      for (GenericRecord row : bucket.getValue()) {
        if (seen.add(MergeTable.keyOf(row, keys))) {
          out.output(row);
        }
      }
    }
  }
}
