package com.example.connector.merge;

import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * Gathers rows into a few buckets by the hash of their primary key: every row of a key lands in
 * the same bucket, and each bucket is one element (and so one bundle, and one staged file).
 *
 * <p>Why: the DirectRunner evaluates what follows a GroupByKey one key per bundle, at a few
 * milliseconds each, and the staging writes one file per bundle; grouped by primary key, 20,000
 * products became 20,000 bundles and files. A bucket's rows are iterated, not held, on runners
 * that stream a group (Flink, Dataflow).
 */
public final class KeyBuckets
    extends PTransform<PCollection<GenericRecord>, PCollection<KV<Integer, Iterable<GenericRecord>>>> {
  static final int BUCKETS = 8;
  private final List<String> keys;
  private final String schemaJson;

  public KeyBuckets(List<String> keys, Schema rowSchema) {
    this.keys = List.copyOf(keys);
    this.schemaJson = rowSchema.toString();
  }

  @Override
  public PCollection<KV<Integer, Iterable<GenericRecord>>> expand(PCollection<GenericRecord> rows) {
    AvroCoder<GenericRecord> rowCoder = AvroCoder.of(new Schema.Parser().parse(schemaJson));
    return rows.apply("Bucket by key", ParDo.of(new BucketFn(keys)))
        .setCoder(KvCoder.of(VarIntCoder.of(), rowCoder))
        .apply("Group buckets", GroupByKey.create());
  }

  private static final class BucketFn extends DoFn<GenericRecord, KV<Integer, GenericRecord>> {
    private final List<String> keys;

    BucketFn(List<String> keys) {
      this.keys = keys;
    }

    @ProcessElement
    public void process(@Element GenericRecord row, OutputReceiver<KV<Integer, GenericRecord>> out) {
      out.output(KV.of(Math.floorMod(MergeTable.keyOf(row, keys).hashCode(), BUCKETS), row));
    }
  }
}
