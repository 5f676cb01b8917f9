package com.example.connector.read;

import java.util.HashSet;
import java.util.Set;
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
 * Keeps one row per primary key of a snapshot read (a row read twice because pages shifted
 * while products were inserted). Rows are grouped into {@value #BUCKETS} buckets by the key's
 * hash, and each bucket passes its rows on, skipping a key it has seen.
 *
 * <p>Not {@code Distinct} on the key: that groups by every key, and the DirectRunner evaluates
 * each group's downstream steps as a bundle of its own, at a few milliseconds each (it
 * re-translates the step for every bundle): 20,000 products took minutes. A bucket holds the
 * keys it has seen (strings), not the rows.
 */
public final class OneRowPerKey extends PTransform<PCollection<GenericRecord>, PCollection<GenericRecord>> {
  static final int BUCKETS = 8;
  private final String keyField;
  private final String schemaJson;

  public OneRowPerKey(String keyField, Schema rowSchema) {
    this.keyField = keyField;
    this.schemaJson = rowSchema.toString();
  }

  @Override
  public PCollection<GenericRecord> expand(PCollection<GenericRecord> rows) {
    AvroCoder<GenericRecord> rowCoder = AvroCoder.of(new Schema.Parser().parse(schemaJson));
    return rows.apply("Bucket by key", ParDo.of(new Bucket(keyField)))
        .setCoder(KvCoder.of(VarIntCoder.of(), rowCoder))
        .apply("Group", GroupByKey.create())
        .apply("First per key", ParDo.of(new FirstPerKey(keyField)))
        .setCoder(rowCoder);
  }

  static final class Bucket extends DoFn<GenericRecord, KV<Integer, GenericRecord>> {
    private final String keyField;

    Bucket(String keyField) {
      this.keyField = keyField;
    }

    @ProcessElement
    public void process(@Element GenericRecord row, OutputReceiver<KV<Integer, GenericRecord>> out) {
      out.output(KV.of(Math.floorMod(String.valueOf(row.get(keyField)).hashCode(), BUCKETS), row));
    }
  }

  static final class FirstPerKey extends DoFn<KV<Integer, Iterable<GenericRecord>>, GenericRecord> {
    private final String keyField;

    FirstPerKey(String keyField) {
      this.keyField = keyField;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Iterable<GenericRecord>> bucket, OutputReceiver<GenericRecord> out) {
      Set<String> seen = new HashSet<>();
      for (GenericRecord row : bucket.getValue()) {
        if (seen.add(String.valueOf(row.get(keyField)))) {
          out.output(row);
        }
      }
    }
  }
}
