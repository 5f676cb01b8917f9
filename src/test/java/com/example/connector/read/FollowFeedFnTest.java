package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Password;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.source.ExampleSource;
import com.example.testing.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.DoFn.OutputReceiver;
import org.junit.jupiter.api.Test;

/**
 * {@link FollowFeedFn} against the simulated source, its restrictions processed as a runner
 * would, with a runner's split in the middle of a poll.
 */
class FollowFeedFnTest {
  private static final Instant CAP = Instant.parse("2025-06-01T00:00:00Z");

  /**
   * A runner splits the restriction above the last claim (not at it, as a checkpoint does): the
   * batches of the primary and of the remainder still cover the feed without a gap, so the
   * committer, which commits only a contiguous stretch, goes on committing.
   */
  @Test
  void batchesCoverTheFeedWithoutAGapWhenARunnerSplitsAPoll() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).nullRate(0)
        .clock(TestClock.frozenAt(CAP)).start()) {
      SourceConfig config = new SourceConfig(source.baseUrl(), "u", Password.inline("p"),
          new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1)));
      ReadContext context;
      try (ExampleClient client = ExampleClient.create(config)) {
        context = new ReadContext(config, TableCatalog.discover(client).table("users", "test"),
            new RunStamp("run", 0), "main.example.users");
      }
      CursorFeed feed = new CursorFeed("users", false, Map.of(), null, null, Timestamps.toMicros(CAP), 10_000,
          "upsert", null);
      FollowFeedFn fn = new FollowFeedFn(context, new ReadCursorFn(context), Duration.ofSeconds(1), List.of(feed));
      List<FeedBatch> batches = new ArrayList<>();
      OutputReceiver<FeedBatch> out = new OutputReceiver<>() {
        @Override
        public void output(FeedBatch batch) {
          batches.add(batch);
        }

        @Override
        public void outputWithTimestamp(FeedBatch batch, org.joda.time.Instant timestamp) {
          output(batch);
        }
      };
      fn.setup();
      try {
        // The primary: split halfway through what is left after its 10th claim.
        SplittingTracker<OffsetRange, Long> primary =
            new SplittingTracker<>(fn.newTracker(fn.initialRestriction(feed)), 10, 0.5);
        assertFalse(fn.process(feed, primary, fn.newWatermarkEstimator(fn.initialWatermark(feed)), out)
            .shouldResume(), "the runner took the rest");
        assertNotNull(primary.residual(), "the runner split");
        SplittingTracker<OffsetRange, Long> rest = new SplittingTracker<>(fn.newTracker(primary.residual()), 0, 0);
        fn.process(feed, rest, fn.newWatermarkEstimator(fn.initialWatermark(feed)), out);
      } finally {
        fn.teardown();
      }

      batches.sort(Comparator.comparingLong(FeedBatch::fromMicros));
      long at = 0; // the feed starts at the epoch (no committed cursor, no start_timestamp)
      for (FeedBatch b : batches) {
        assertEquals(at, b.fromMicros(), "batches " + spans(batches));
        at = b.toMicros();
      }
      assertEquals(Timestamps.toMicros(CAP), at, "up to the source's clock");
      assertEquals(37, batches.stream().mapToInt(b -> b.rows().size()).sum(), "the 37 users, each once");
    }
  }

  private static List<String> spans(List<FeedBatch> batches) {
    return batches.stream().map(b -> "[" + b.fromMicros() + ", " + b.toMicros() + ")").toList();
  }
}
