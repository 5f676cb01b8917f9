package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Password;
import com.example.connector.client.RawHttpServer;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.connector.client.SourceException;
import com.example.source.ExampleSource;
import com.example.testing.Receivers;
import com.example.testing.TestClock;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Delayed;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.beam.runners.core.NullSideInputReader;
import org.apache.beam.runners.core.OutputAndTimeBoundedSplittableProcessElementInvoker;
import org.apache.beam.runners.core.OutputWindowedValue;
import org.apache.beam.runners.core.SplittableProcessElementInvoker;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn.OutputReceiver;
import org.apache.beam.sdk.transforms.reflect.DoFnInvokers;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.values.TupleTag;
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
      CursorFeed feed = usersFeed();
      FollowFeedFn fn = usersFollower(source.baseUrl(), source.baseUrl(), feed);
      List<FeedBatch> batches = new ArrayList<>();
      OutputReceiver<FeedBatch> out = Receivers.into(batches);
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

  /**
   * The runner's checkpoint cannot throw a poll away however long its clock call and first page
   * take (429s retried after their Retry-After): the DirectRunner's and Flink's SDF invoker starts
   * its timer (1 s, 10 s) at the call's first claim, so the checkpoint lands after it and the poll
   * outputs what it claimed. Here the invoker the DirectRunner uses runs each poll, its timer
   * firing at every page request once scheduled: each poll outputs its first page, the next one
   * starts after it, and the batches cover the feed once.
   */
  @Test
  void theRunnersCheckpointLandsAfterThePollsFirstClaimHoweverSlowItsFirstPage() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).nullRate(0)
        .pageSize("users", 10).clock(TestClock.frozenAt(CAP)).start()) {
      CursorFeed feed = usersFeed();
      List<FeedBatch> batches = new ArrayList<>();
      Followed followed = followCheckpointedAtEveryCall(source, usersFollower(source.baseUrl(), source.baseUrl(), feed),
          feed, batches, 20);
      assertTrue(followed.froms().size() > 2, "the runner checkpointed polls: " + followed.froms());
      assertEquals(followed.froms().stream().map(f -> 0).toList(), followed.pendingAtFirstCall(),
          "no checkpoint could land before a poll's first claim");
      assertCoverUpToTheCap(batches);
      assertEquals(37, batches.stream().flatMap(b -> b.rows().stream()).map(r -> r.get("user_id").toString())
          .distinct().count(), "the 37 users");
      assertEquals(37, batches.stream().mapToInt(b -> b.rows().size()).sum(), "each once");
    }
  }

  /**
   * A windowed feed's empty window is claimed with the stretch after it, once the call that finds
   * the next record returns. Claimed before that call, a checkpoint the runner took during it (a
   * slow source: calls near a second, 429s) kept the one window only, and each poll, resumed at
   * once, moved an hour on: from the epoch, a poll per hour of the feed's history.
   */
  @Test
  void aSlowSourcesCheckpointsStillLetAWindowedFeedJumpItsEmptyStretches() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).nullRate(0)
        .clock(TestClock.frozenAt(CAP)).start()) {
      CursorFeed feed = new CursorFeed("metrics", false, Map.of(), null, null, Timestamps.toMicros(CAP), 10_000,
          "upsert", 3_600_000_000L);
      List<FeedBatch> unchecked = new ArrayList<>();
      FollowFeedFn plain = follower(source.baseUrl(), feed);
      plain.setup();
      try {
        plain.process(feed, plain.newTracker(plain.initialRestriction(feed)),
            plain.newWatermarkEstimator(plain.initialWatermark(feed)), Receivers.into(unchecked));
      } finally {
        plain.teardown();
      }
      List<FeedBatch> batches = new ArrayList<>();
      Followed followed = followCheckpointedAtEveryCall(source, follower(source.baseUrl(), feed), feed, batches, 200);
      assertTrue(followed.froms().size() > 2, "the runner checkpointed polls: " + followed.froms().size());
      assertCoverUpToTheCap(batches);
      assertEquals(keys(unchecked), keys(batches), "the rows a poll without checkpoints reads, each once");
    }
  }

  /** The spans and rows a run followed up to: one after the other from the epoch, up to the source's clock. */
  private static void assertCoverUpToTheCap(List<FeedBatch> batches) {
    long at = 0;
    for (FeedBatch b : batches) {
      assertEquals(at, b.fromMicros(), "batches " + spans(batches));
      at = b.toMicros();
    }
    assertEquals(Timestamps.toMicros(CAP), at, "up to the source's clock, in batches: " + batches.size());
  }

  /** Each row as its fields but the run's stamp, sorted. */
  private static List<String> keys(List<FeedBatch> batches) {
    return batches.stream().flatMap(b -> b.rows().stream())
        .map(r -> r.getSchema().getFields().stream().filter(f -> !f.name().startsWith("_"))
            .map(f -> f.name() + "=" + r.get(f.name())).toList().toString())
        .sorted().toList();
  }

  /** The start of each call's restriction, and the checkpoints pending at each call's first request. */
  private record Followed(List<Long> froms, List<Integer> pendingAtFirstCall) {}

  /**
   * Follows {@code feed} up to the source's clock (at most {@code maxCalls} calls) through the
   * DirectRunner's SDF invoker (a checkpoint after 100 outputs or 1 s, its timer started at a
   * call's first claim), the timer firing at every request of the feed's table once scheduled: a
   * source whose every call outlasts the runner's maximum. Batches go to {@code batches}.
   */
  private static Followed followCheckpointedAtEveryCall(ExampleSource source, FollowFeedFn fn, CursorFeed feed,
      List<FeedBatch> batches, int maxCalls) {
    ManualTimer timer = new ManualTimer();
    OutputAndTimeBoundedSplittableProcessElementInvoker<CursorFeed, FeedBatch, OffsetRange, Long, org.joda.time.Instant>
        invoker = new OutputAndTimeBoundedSplittableProcessElementInvoker<>(fn, PipelineOptionsFactory.create(),
            runnerOutput(batches), NullSideInputReader.empty(), timer, 100,
            org.joda.time.Duration.standardSeconds(1), () -> null);
    List<Integer> pendingAtFirstCall = new ArrayList<>();
    AtomicBoolean firstCall = new AtomicBoolean();
    source.setRequestListener((method, path, query) -> {
      if (path.startsWith("/tables/" + feed.table() + "/")) {
        if (firstCall.getAndSet(false)) {
          pendingAtFirstCall.add(timer.pending());
        }
        timer.fire(); // the runner's thread: the call has run past its maximum
      }
    });
    List<Long> froms = new ArrayList<>();
    fn.setup();
    try {
      OffsetRange restriction = fn.initialRestriction(feed);
      org.joda.time.Instant watermark = fn.initialWatermark(feed);
      while (restriction.getFrom() < Timestamps.toMicros(CAP) && froms.size() < maxCalls) {
        froms.add(restriction.getFrom());
        firstCall.set(true);
        SplittableProcessElementInvoker<CursorFeed, FeedBatch, OffsetRange, Long, org.joda.time.Instant>.Result
            result = invoker.invokeProcessElement(DoFnInvokers.invokerFor(fn), WindowedValue.valueInGlobalWindow(feed),
                fn.newTracker(restriction), fn.newWatermarkEstimator(watermark), Map.of());
        restriction = result.getResidualRestriction();
        watermark = result.getFutureWatermarkEstimatorState();
      }
    } finally {
      fn.teardown();
      timer.shutdownNow();
      source.setRequestListener(null);
    }
    return new Followed(froms, pendingAtFirstCall);
  }

  /** The runner's timer: what the invoker schedules runs when the test fires it, not after a duration. */
  private static final class ManualTimer extends ScheduledThreadPoolExecutor {
    private final List<FutureTask<Void>> tasks = new ArrayList<>();

    ManualTimer() {
      super(1);
    }

    @Override
    public synchronized ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
      Task task = new Task(command);
      tasks.add(task);
      return task;
    }

    /** Checkpoints scheduled and neither run nor cancelled. */
    synchronized int pending() {
      return (int) tasks.stream().filter(t -> !t.isDone()).count();
    }

    /** Runs what is scheduled and neither run nor cancelled. */
    synchronized void fire() {
      tasks.forEach(FutureTask::run);
    }

    private static final class Task extends FutureTask<Void> implements ScheduledFuture<Void> {
      Task(Runnable command) {
        super(command, null);
      }

      @Override
      public long getDelay(TimeUnit unit) {
        return 0;
      }

      @Override
      public int compareTo(Delayed other) {
        return 0;
      }
    }
  }

  /** The runner's output of the invoker: each batch to {@code batches}. */
  private static OutputWindowedValue<FeedBatch> runnerOutput(List<FeedBatch> batches) {
    return new OutputWindowedValue<>() {
      @Override
      public void outputWindowedValue(FeedBatch batch, org.joda.time.Instant timestamp,
          java.util.Collection<? extends BoundedWindow> windows, PaneInfo pane) {
        batches.add(batch);
      }

      @Override
      public <T> void outputWindowedValue(TupleTag<T> tag, T value, org.joda.time.Instant timestamp,
          java.util.Collection<? extends BoundedWindow> windows, PaneInfo pane) {
        throw new UnsupportedOperationException();
      }
    };
  }

  /** The users' field descriptors, as the source's schema route lists them, with {@code extra} after them. */
  private static String usersSchema(String extra) {
    return "{\"schema\": [{\"name\": \"user_id\", \"type\": \"string\", \"nullable\": false},"
        + " {\"name\": \"email\", \"type\": \"string\", \"nullable\": true},"
        + " {\"name\": \"display_name\", \"type\": \"string\", \"nullable\": true},"
        + " {\"name\": \"status\", \"type\": \"string\", \"nullable\": true},"
        + " {\"name\": \"updated_at\", \"type\": \"timestamp\", \"nullable\": true}" + extra + "]}";
  }

  private static String user(String id, String updatedAt, String tier) {
    return "{\"user_id\": \"" + id + "\", \"email\": null, \"display_name\": null, \"status\": \"active\","
        + " \"updated_at\": \"" + updatedAt + "\", \"tier\": \"" + tier + "\"}";
  }

  /**
   * A field the source sent before its schema declared it (an API rolling a field out, a schema
   * route answered from a cache) is left out; once the schema declares it, a later poll of the
   * same continuous read fails naming the column, as a new read would, rather than drop its
   * values. The read asked the schema once for good, and left 'gold' out of user_0002 as well:
   * its cursor moved past it, so no later run read it again.
   */
  @Test
  void aFieldTheSchemaDeclaresAfterAPollLeftItOutFailsALaterPoll() throws Exception {
    AtomicBoolean declared = new AtomicBoolean();
    String first = user("user_0001", "2026-12-02T07:59:00.000000+00:00", "silver");
    String second = user("user_0002", "2026-12-02T08:00:05.000000+00:00", "gold");
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> {
      String path = line.split(" ")[1];
      if (path.equals("/tables")) { // the poll's cap: the source's clock
        out.write(RawHttpServer.json("{\"tables\": [\"users\"]}",
            "Date: Wed, 02 Dec 2026 08:00:" + (declared.get() ? "10" : "00") + " GMT"));
      } else if (path.startsWith("/tables/users/schema")) {
        out.write(RawHttpServer.json(usersSchema(declared.get()
            ? ", {\"name\": \"tier\", \"type\": \"string\", \"nullable\": true}" : "")));
      } else if (path.startsWith("/tables/users/records")) {
        String records = !declared.get() ? first : path.contains("since=1969") ? first + ", " + second : second;
        out.write(RawHttpServer.json("{\"records\": [" + records + "], \"next_page\": null}"));
      } else {
        out.write(RawHttpServer.response(404, "application/json", "{\"error\": \"no route\"}"));
      }
    });
        ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      CursorFeed feed = usersFeed();
      FollowFeedFn fn = usersFollower(server.baseUrl(), source.baseUrl(), feed);
      List<FeedBatch> batches = new ArrayList<>();
      OutputReceiver<FeedBatch> out = Receivers.into(batches);
      fn.setup();
      try {
        var tracker = fn.newTracker(fn.initialRestriction(feed));
        var watermark = fn.newWatermarkEstimator(fn.initialWatermark(feed));
        fn.process(feed, tracker, watermark, out); // up to 08:00:00: user_0001, its undeclared tier left out
        assertEquals(1, batches.stream().mapToInt(b -> b.rows().size()).sum());
        assertNull(batches.get(0).rows().get(0).getSchema().getField("tier"), "left out");

        declared.set(true);
        var next = fn.newTracker(tracker.trySplit(0).getResidual()); // the runner's resume after the poll interval
        SourceException e = assertThrows(SourceException.class, () -> fn.process(feed, next, watermark, out));
        assertTrue(e.getMessage().contains("the source added column 'tier' to table users after this run was planned"),
            e.getMessage());
        assertEquals(1, batches.stream().mapToInt(b -> b.rows().size()).sum(), "user_0002 not output without its tier");
      } finally {
        fn.teardown();
      }
    }
  }

  private static List<String> spans(List<FeedBatch> batches) {
    return batches.stream().map(b -> "[" + b.fromMicros() + ", " + b.toMicros() + ")").toList();
  }

  /** The users feed, followed from {@code CAP}. */
  private static CursorFeed usersFeed() {
    return new CursorFeed("users", false, Map.of(), null, null, Timestamps.toMicros(CAP), 10_000, "upsert", null);
  }

  /** A follower of {@code feed}, read and its table declared by the source at {@code source}. */
  private static FollowFeedFn follower(URI source, CursorFeed feed) {
    RetryPolicy retry = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1));
    SourceConfig config = new SourceConfig(source, "u", Password.inline("p"), retry);
    try (ExampleClient client = ExampleClient.create(config)) {
      ReadContext context = new ReadContext(config, TableCatalog.discover(client).table(feed.table(), "test"),
          new RunStamp("run", 0), "main.example." + feed.table());
      FeedRangeReadFn read = feed.windowMicros() != null ? new ReadWindowsFn(context) : new ReadCursorFn(context);
      return new FollowFeedFn(context, read, Duration.ofSeconds(1), List.of(feed));
    }
  }

  /** A follower of {@code feed} that reads from {@code readFrom}, its table as the source at {@code schemaFrom} declares it. */
  private static FollowFeedFn usersFollower(URI readFrom, URI schemaFrom, CursorFeed feed) {
    RetryPolicy retry = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1));
    SourceConfig config = new SourceConfig(readFrom, "u", Password.inline("p"), retry);
    try (ExampleClient client = ExampleClient.create(new SourceConfig(schemaFrom, "u", Password.inline("p"), retry))) {
      ReadContext context = new ReadContext(config, TableCatalog.discover(client).table("users", "test"),
          new RunStamp("run", 0), "main.example.users");
      return new FollowFeedFn(context, new ReadCursorFn(context), Duration.ofSeconds(1), List.of(feed));
    }
  }
}
