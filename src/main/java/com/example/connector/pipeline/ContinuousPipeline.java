package com.example.connector.pipeline;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.continuous.CommitIntervalsFn;
import com.example.connector.continuous.CommitMetricsFn;
import com.example.connector.continuous.ContinuousTable;
import com.example.connector.read.CursorFeed;
import com.example.connector.read.FeedBatch;
import com.example.connector.read.FollowFeedFn;
import com.example.connector.read.FollowSnapshotFn;
import com.example.connector.read.ReadCursorFn;
import com.example.connector.read.ReadWindowsFn;
import com.example.connector.read.SnapshotRead;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.PCollection;

/**
 * The Beam graph of a continuous run ({@code --streaming=true}). Per table: its feeds followed by
 * an unbounded read ({@link FollowFeedFn}, or {@link FollowSnapshotFn} for a snapshot table) that
 * polls the source and delivers batches of rows with the span of the feed they complete, and the
 * table's committer ({@link CommitIntervalsFn}), which every commit interval writes, merges and
 * commits them with the cursors they reach. The same plan as a bounded run: the tables, their
 * cursors, schemas and merges.
 */
public final class ContinuousPipeline {
  private ContinuousPipeline() {}

  public static void build(Pipeline pipeline, IngestPlan plan, IngestOptions options) {
    Duration poll = Duration.ofSeconds(options.getPollIntervalSeconds());
    Duration commit = Duration.ofSeconds(options.getCommitIntervalSeconds());
    Duration snapshots = Duration.ofSeconds(options.getSnapshotIntervalSeconds());
    for (PlannedTable table : plan.tables()) {
      String name = table.destination().key();
      Schema feedSchema = RecordSchemas.schemaOf(table.context().table());
      FeedBatch.Coder batchCoder = FeedBatch.Coder.of(AvroCoder.of(GenericRecord.class, feedSchema));
      PCollection<FeedBatch> batches;
      Map<String, Long> feedStarts = new HashMap<>();
      if (table.snapshot() != null) {
        batches = pipeline
            .apply(name + "/Snapshot", Create.of(table.snapshot()).withCoder(SerializableCoder.of(SnapshotRead.class)))
            .apply(name + "/Read snapshots",
                ParDo.of(new FollowSnapshotFn(table.context(), table.snapshot(), snapshots, table.snapshotAt())));
      } else {
        table.feeds().forEach(f -> feedStarts.put(f.feedName(), f.continuousFrom()));
        boolean windowed = table.feeds().get(0).windowMicros() != null;
        batches = pipeline
            .apply(name + "/Feeds", Create.of(table.feeds()).withCoder(SerializableCoder.of(CursorFeed.class)))
            .apply(name + "/Follow feeds", ParDo.of(new FollowFeedFn(table.context(),
                windowed ? new ReadWindowsFn(table.context()) : new ReadCursorFn(table.context()), poll,
                table.feeds())));
      }
      Map<String, String> uuids = new HashMap<>();
      uuids.put(name, table.commit().tableUuid());
      if (table.changeFeedCommit() != null) {
        uuids.put(table.changeFeedCommit().target().destination().key(), table.changeFeedCommit().tableUuid());
      }
      ContinuousTable committed = new ContinuousTable(table.target(), table.merge(), feedSchema.toString(),
          table.context().table().cursorField(), feedStarts, table.snapshot() != null, plan.runId(), uuids);
      batches.setCoder(batchCoder)
          .apply(name + "/By table", WithKeys.of(name))
          .setCoder(KvCoder.of(StringUtf8Coder.of(), batchCoder))
          .apply(name + "/Commit intervals", ParDo.of(new CommitIntervalsFn(committed, commit)))
          .setCoder(KvCoder.of(VarLongCoder.of(), VarLongCoder.of()))
          .apply(name + "/Commit metrics", ParDo.of(new CommitMetricsFn(name)));
    }
  }
}
