package com.example.connector.pipeline;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.merge.MergeChanges;
import com.example.connector.merge.MergeRule;
import com.example.connector.read.CursorFeed;
import com.example.connector.read.ReadCursorFn;
import com.example.connector.read.ReadSnapshotPagesFn;
import com.example.connector.read.ReadSpread;
import com.example.connector.read.ReadWindowsFn;
import com.example.connector.read.SnapshotRead;
import com.example.connector.table.CommitTables;
import com.example.connector.table.TableCommitter;
import com.example.connector.table.DataFilePartitions;
import com.example.connector.table.TableTarget;
import com.example.connector.table.WriteDataFiles;
import com.example.connector.table.WritePositionDeletes;
import com.example.connector.table.WrittenFile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;

/**
 * The Beam graph of a run. Per table: a read (one Splittable DoFn per ingestion style) into
 * change feed rows; an append table writes them as its new data files; an SCD table appends them
 * to its change feed and merges them into the table as row-level changes (data files of the rows
 * inserted, position delete files of the rows replaced or removed). Then one commit per table,
 * each with its cursors, in one step.
 */
public final class IngestPipeline {
  private IngestPipeline() {}

  public static void build(Pipeline pipeline, IngestPlan plan) {
    List<PCollection<WrittenFile>> written = new ArrayList<>();
    for (PlannedTable table : plan.tables()) {
      String name = table.destination().key();
      TableTarget target = table.target();
      Schema feedSchema = RecordSchemas.schemaOf(table.context().table());
      PCollection<GenericRecord> changes =
          read(pipeline, name, table, feedSchema).setCoder(AvroCoder.of(feedSchema));
      MergeRule merge = table.merge();
      if (merge.appendOnly()) {
        written.add(changes.apply(name + "/Write", new WriteDataFiles(target, plan.runId(), feedSchema, List.of())));
        continue;
      }
      PCollection<GenericRecord> feedRows = table.changeFeedFrom().isEmpty() ? changes
          : changes.apply(name + "/Rows the change feed lacks",
                  ParDo.of(new NotYetInFeedFn(table.context().table().cursorField(), table.changeFeedFrom())))
              .setCoder(AvroCoder.of(feedSchema));
      written.add(feedRows.apply(name + "/Write change feed",
          new WriteDataFiles(target.changeFeed(), plan.runId(), feedSchema, List.of())));
      Schema tableSchema = merge.tableSchema(feedSchema);
      PCollectionTuple merged = changes.apply(name + "/Merge", new MergeChanges(merge, feedSchema, table.snapshotAt(),
          target, table.committedFiles(), table.firstKeyType(), table.oneChangePerKey()));
      written.add(merged.get(MergeChanges.INSERTS).apply(name + "/Write inserts",
          new WriteDataFiles(target, plan.runId(), tableSchema, merge.identifierColumns())));
      written.add(merged.get(MergeChanges.DELETES).apply(name + "/Write deletes",
          new WritePositionDeletes(target, plan.runId(), DataFilePartitions.of(table.committedFiles()))));
    }
    pipeline.apply("Commit", new CommitTables(plan.commit(), new TableCommitter(plan.catalog()), written));
  }

  private static PCollection<GenericRecord> read(
      Pipeline pipeline, String name, PlannedTable table, Schema schema) {
    if (table.snapshot() != null) {
      return pipeline
          .apply(name + "/Snapshot", Create.of(table.snapshot()).withCoder(SerializableCoder.of(SnapshotRead.class)))
          // Key ranges read each row that exists throughout exactly once, inserts or not.
          .apply(name + "/Read pages", ReadSpread.snapshot(new ReadSnapshotPagesFn(table.context()), schema));
    }
    PCollection<CursorFeed> feeds =
        pipeline.apply(
            name + "/Feeds",
            Create.of(table.feeds()).withCoder(SerializableCoder.of(CursorFeed.class)));
    boolean windowed = table.feeds().get(0).windowMicros() != null;
    // Each feed is cut into sub-ranges, spread over workers, and each read on its own.
    return windowed
        ? feeds.apply(name + "/Read windows", ReadSpread.feeds(new ReadWindowsFn(table.context()), schema))
        : feeds.apply(name + "/Read cursor", ReadSpread.feeds(new ReadCursorFn(table.context()), schema));
  }

  /**
   * Drops the rows a change feed already holds: those below its own cursor, when a run committed
   * the change feed and died before committing its table, so this run reads from the table's.
   */
  private static final class NotYetInFeedFn extends DoFn<GenericRecord, GenericRecord> {
    private final String cursorField;
    private final Map<String, Long> feedFrom;

    NotYetInFeedFn(String cursorField, Map<String, Long> feedFrom) {
      this.cursorField = cursorField;
      this.feedFrom = Map.copyOf(feedFrom);
    }

    @ProcessElement
    public void process(@Element GenericRecord row, OutputReceiver<GenericRecord> out) {
      if (CursorFeed.notYetIn(row, cursorField, feedFrom)) {
        out.output(row);
      }
    }
  }
}
