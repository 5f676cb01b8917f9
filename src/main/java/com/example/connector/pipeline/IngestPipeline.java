package com.example.connector.pipeline;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.Timestamps;
import com.example.connector.merge.MergeRule;
import com.example.connector.merge.MergeTable;
import com.example.connector.read.CursorFeed;
import com.example.connector.read.ReadCursorFn;
import com.example.connector.read.ReadFeedRanges;
import com.example.connector.read.ReadRows;
import com.example.connector.read.ReadSnapshotPagesFn;
import com.example.connector.read.ReadWindowsFn;
import com.example.connector.read.SnapshotRead;
import com.example.connector.sink.CommitRun;
import com.example.connector.sink.CommittedTable;
import com.example.connector.sink.Committer;
import com.example.connector.sink.Destination;
import com.example.connector.sink.StageTable;
import com.example.connector.sink.StagedFile;
import com.example.connector.sink.StagedFile.Part;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;

/**
 * The Beam graph of a run. Per table: a read (one Splittable DoFn per ingestion style) into
 * change feed rows; for an append table they are staged as the table's new files; for an SCD
 * table they are staged as its change feed and merged, by key, with the committed table into the
 * table's next version, staged in turn. Then one commit of every table and cursor.
 */
public final class IngestPipeline {
  private IngestPipeline() {}

  public static void build(Pipeline pipeline, IngestPlan plan) {
    List<PCollection<StagedFile>> staged = new ArrayList<>();
    for (PlannedTable table : plan.tables()) {
      Destination d = table.destination();
      String name = d.key();
      Schema feedSchema = RecordSchemas.schemaOf(table.context().table());
      PCollection<GenericRecord> changes =
          read(pipeline, name, table, feedSchema).setCoder(AvroCoder.of(feedSchema));
      MergeRule merge = table.merge();
      if (merge.appendOnly()) {
        staged.add(changes.apply(name + "/Stage table", stage(plan, d, Part.TABLE, feedSchema)));
        continue;
      }
      staged.add(changes.apply(name + "/Stage changes", stage(plan, d, Part.CHANGES, feedSchema)));
      Schema tableSchema = merge.tableSchema(feedSchema);
      Long snapshotAt = merge.snapshot() ? Timestamps.toMicros(plan.cap()) : null;
      staged.add(
          PCollectionTuple.of(MergeTable.CHANGES, changes)
              .and(
                  MergeTable.COMMITTED,
                  pipeline.apply(name + "/Committed table", new CommittedTable(table.committedFiles(), tableSchema)))
              .apply(name + "/Merge", new MergeTable(merge, feedSchema, snapshotAt, name,
                  table.committedFiles().isEmpty(), table.oneChangePerKey()))
              .apply(name + "/Stage table", stage(plan, d, Part.TABLE, tableSchema)));
    }
    pipeline.apply("Commit", new CommitRun(plan.commit(), new Committer(plan.layout()), staged));
  }

  private static StageTable stage(IngestPlan plan, Destination d, Part part, Schema schema) {
    return new StageTable(plan.layout(), plan.runId(), d, part, schema);
  }

  private static PCollection<GenericRecord> read(
      Pipeline pipeline, String name, PlannedTable table, Schema schema) {
    if (table.snapshot() != null) {
      return pipeline
          .apply(name + "/Snapshot", Create.of(table.snapshot()).withCoder(SerializableCoder.of(SnapshotRead.class)))
          // Key ranges read each row that exists throughout exactly once, inserts or not.
          .apply(name + "/Read pages", new ReadRows<>(new ReadSnapshotPagesFn(table.context()), schema));
    }
    PCollection<CursorFeed> feeds =
        pipeline.apply(
            name + "/Feeds",
            Create.of(table.feeds()).withCoder(SerializableCoder.of(CursorFeed.class)));
    boolean windowed = table.feeds().get(0).windowMicros() != null;
    // Each feed is cut into sub-ranges, spread over workers, and each read on its own.
    return windowed
        ? feeds.apply(name + "/Read windows", new ReadFeedRanges(new ReadWindowsFn(table.context()), schema))
        : feeds.apply(name + "/Read cursor", new ReadFeedRanges(new ReadCursorFn(table.context()), schema));
  }
}
