package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Password;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.source.ExampleSource;
import com.example.testing.Receivers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.apache.beam.sdk.transforms.splittabledofn.WatermarkEstimators;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.junit.jupiter.api.Test;

/** The continuous snapshot read, driven as a runner drives an unbounded Splittable DoFn. */
class FollowSnapshotFnTest {
  private static final RetryPolicy QUICK = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1));
  private static final SnapshotRead READ = new SnapshotRead("products", Map.of());

  /**
   * Runners checkpoint a call that runs long, from another thread: the DirectRunner after 1 s,
   * Flink after 10 s. Here the checkpoint comes at the snapshot's first page request, as it does
   * when a table takes that long to read. The snapshot is still output, whole, and the residual
   * holds the snapshots after it. (It was given this one: unclaimed while read, so every call that read
   * the table for longer than that was thrown away, and the table was never committed.)
   */
  @Test
  void aCheckpointTheRunnerTakesWhileASnapshotIsReadLeavesThatSnapshotOutput() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      SourceConfig config = new SourceConfig(source.baseUrl(), "u", Password.inline("p"), QUICK);
      ReadContext context;
      try (ExampleClient client = ExampleClient.create(config)) {
        context = new ReadContext(config, TableCatalog.discover(client).table("products", "test"),
            new RunStamp("run", 0), "main.example.products");
      }
      FollowSnapshotFn fn = new FollowSnapshotFn(context, READ, Duration.ofSeconds(300), 1);
      OffsetRangeTracker tracker = fn.newTracker(fn.initialRestriction());
      AtomicReference<SplitResult<OffsetRange>> checkpoint = new AtomicReference<>();
      source.setRequestListener((method, path, query) -> {
        if (path.equals("/tables/products/records") && checkpoint.get() == null) {
          checkpoint.set(tracker.trySplit(0)); // the runner's thread, while the read waits for its page
        }
      });
      List<FeedBatch> batches = new ArrayList<>();
      fn.setup();
      try {
        fn.process(READ, tracker, new WatermarkEstimators.Manual(BoundedWindow.TIMESTAMP_MIN_VALUE),
            Receivers.into(batches));
        tracker.checkDone();
      } finally {
        fn.teardown();
      }
      assertNotNull(checkpoint.get(), "the runner checkpointed during the read");
      assertEquals(1, batches.size(), "the snapshot read is output");
      assertEquals(53, batches.get(0).rows().size(), "every product, once");
      assertEquals(new OffsetRange(batches.get(0).toMicros() + 1, Long.MAX_VALUE), checkpoint.get().getResidual(),
          "the residual: the snapshots after this one's time");
      assertEquals(53, batches.get(0).rows().stream().map(r -> r.get("product_id").toString()).distinct().count());
    }
  }
}
