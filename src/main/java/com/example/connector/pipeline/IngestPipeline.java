package com.example.connector.pipeline;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.read.CursorFeed;
import com.example.connector.read.OneRowPerKey;
import com.example.connector.read.ReadCursorFn;
import com.example.connector.read.ReadRows;
import com.example.connector.read.ReadSnapshotPagesFn;
import com.example.connector.read.ReadWindowsFn;
import com.example.connector.read.SnapshotRead;
import com.example.connector.sink.CommitRun;
import com.example.connector.sink.Committer;
import com.example.connector.sink.StageTable;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;

/**
 * The Beam graph of a run: per table, a read (one Splittable DoFn per ingestion style) and a
 * staged Parquet write; then one commit of all tables and their cursors.
 */
public final class IngestPipeline {
  private IngestPipeline() {}

  public static void build(Pipeline pipeline, IngestPlan plan) {
    List<PCollection<?>> staged = new ArrayList<>();
    for (PlannedTable table : plan.tables()) {
      String name = table.destination().key();
      Schema schema = RecordSchemas.schemaOf(table.context().table());
      PCollection<GenericRecord> rows = read(pipeline, name, table, schema).setCoder(AvroCoder.of(schema));
      staged.add(
          rows.apply(
                  name + "/Stage",
                  new StageTable(plan.layout().stagingDir(plan.runId(), table.destination()), schema))
              .getPerDestinationOutputFilenames());
    }
    pipeline.apply(
        "Commit", new CommitRun(plan.commit(), new Committer(plan.layout()), staged));
  }

  private static PCollection<GenericRecord> read(
      Pipeline pipeline, String name, PlannedTable table, Schema schema) {
    if (table.snapshot() != null) {
      String key = table.context().table().primaryKeys().get(0);
      return pipeline
          .apply(name + "/Snapshot", Create.of(table.snapshot()).withCoder(SerializableCoder.of(SnapshotRead.class)))
          .apply(name + "/Read pages", new ReadRows<>(new ReadSnapshotPagesFn(table.context()), schema))
          // Pages only shift forward while products are inserted: a row may be read twice.
          .apply(name + "/One row per key", new OneRowPerKey(key, schema));
    }
    PCollection<CursorFeed> feeds =
        pipeline.apply(
            name + "/Feeds",
            Create.of(table.feeds()).withCoder(SerializableCoder.of(CursorFeed.class)));
    boolean windowed = table.feeds().get(0).windowMicros() != null;
    return windowed
        ? feeds.apply(name + "/Read windows", new ReadRows<>(new ReadWindowsFn(table.context()), schema))
        : feeds.apply(name + "/Read cursor", new ReadRows<>(new ReadCursorFn(table.context()), schema));
  }
}
