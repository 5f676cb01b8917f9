package com.example.connector.merge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Merges a destination table as committed with the changes a run read, keyed by primary key, into
 * the table's next version: a {@link CoGroupByKey} of the two on the key, then {@link KeyHistory}
 * per key. Being keyed, it spreads over workers like any Beam join; the work is proportional to
 * the table plus the changes.
 *
 * <p>Input: a tuple of {@link #COMMITTED} (rows in the table's schema) and {@link #CHANGES} (rows
 * in the change feed's schema). Output: every row of the new table version. Counts them in the
 * destination's {@code table_rows} metric.
 */
public class MergeTable extends PTransform<PCollectionTuple, PCollection<GenericRecord>> {
  public static final TupleTag<GenericRecord> COMMITTED = new TupleTag<>("committed") {};
  public static final TupleTag<GenericRecord> CHANGES = new TupleTag<>("changes") {};

  private final MergeRule rule;
  private final String feedSchemaJson;
  private final @Nullable Long snapshotAt;
  private final String metricsNamespace;

  /**
   * @param snapshotAt for a snapshot table, the sequence of this run's snapshot (the source's
   *     clock when the run started, in microseconds)
   */
  public MergeTable(MergeRule rule, Schema feedSchema, @Nullable Long snapshotAt, String metricsNamespace) {
    this.rule = rule;
    this.feedSchemaJson = feedSchema.toString();
    this.snapshotAt = snapshotAt;
    this.metricsNamespace = metricsNamespace;
  }

  @Override
  public PCollection<GenericRecord> expand(PCollectionTuple input) {
    Schema feedSchema = new Schema.Parser().parse(feedSchemaJson);
    Schema tableSchema = rule.tableSchema(feedSchema);
    PCollection<KV<String, GenericRecord>> committed =
        input.get(COMMITTED)
            .apply("Key committed rows", ParDo.of(new KeyFn(rule.keys())))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), AvroCoder.of(tableSchema)));
    PCollection<KV<String, GenericRecord>> changes =
        input.get(CHANGES)
            .apply("Key changes", ParDo.of(new KeyFn(rule.keys())))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), AvroCoder.of(feedSchema)));
    return KeyedPCollectionTuple.of(COMMITTED, committed)
        .and(CHANGES, changes)
        .apply("Group by key", CoGroupByKey.create())
        .apply("Replay each key", ParDo.of(new ReplayFn(rule, feedSchemaJson, snapshotAt, metricsNamespace)))
        .setCoder(AvroCoder.of(tableSchema));
  }

  /** Keys a row by its primary key's values, as a JSON array (nulls kept, types told apart). */
  private static class KeyFn extends DoFn<GenericRecord, KV<String, GenericRecord>> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<String> keys;

    KeyFn(List<String> keys) {
      this.keys = keys;
    }

    @ProcessElement
    public void process(@Element GenericRecord row, OutputReceiver<KV<String, GenericRecord>> out) {
      List<Object> values = new ArrayList<>(keys.size());
      for (String key : keys) {
        Object v = row.get(key);
        values.add(v instanceof CharSequence ? v.toString() : v);
      }
      try {
        out.output(KV.of(JSON.writeValueAsString(values), row));
      } catch (JsonProcessingException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static class ReplayFn extends DoFn<KV<String, CoGbkResult>, GenericRecord> {
    private final MergeRule rule;
    private final String feedSchemaJson;
    private final @Nullable Long snapshotAt;
    private final Counter rows;
    private transient KeyHistory history;

    ReplayFn(MergeRule rule, String feedSchemaJson, @Nullable Long snapshotAt, String metricsNamespace) {
      this.rule = rule;
      this.feedSchemaJson = feedSchemaJson;
      this.snapshotAt = snapshotAt;
      this.rows = Metrics.counter(metricsNamespace, "table_rows");
    }

    @Setup
    public void setup() {
      history = new KeyHistory(rule, new Schema.Parser().parse(feedSchemaJson), snapshotAt);
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> key, OutputReceiver<GenericRecord> out) {
      for (GenericRecord row : history.merge(key.getValue().getAll(COMMITTED), key.getValue().getAll(CHANGES))) {
        out.output(row);
        rows.inc();
      }
    }
  }
}
