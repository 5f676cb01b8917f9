package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.TableDescriptor;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Password;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.connector.read.ReadSnapshotPagesFn.KeyRange;
import com.example.connector.read.ReadSnapshotPagesFn.PageKeys;
import com.example.source.ExampleSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One table's sub-ranges (users' probed ones, metrics' windows, products' key ranges) are read on
 * more than one thread at the same time: on the DirectRunner and on Flink embedded (batch,
 * parallelism 2), side by side in one worker's lanes and across workers. The read DoFn is the
 * real one, wrapped so that each range's read first waits, up to a minute, for a read on another
 * thread: a reader that reads the sub-ranges one after another never gets two reads to meet, and
 * records one thread.
 */
class ReadSpreadTest {
  private static final Instant CAP = Instant.parse("2025-06-01T00:00:00Z");
  private static final long TEN_MINUTES_MICROS = 600_000_000L;
  private static final RetryPolicy QUICK = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1));
  /** Calls in flight: a group holds this many ranges, so 16 ranges make 4 groups. */
  private static final int BUDGET = 4;

  /** Shared with the DoFns, which runners copy by serialization: static, one test at a time. */
  private static volatile CountDownLatch meeting;
  private static final Set<String> READ_THREADS = ConcurrentHashMap.newKeySet();
  private static final Queue<String> READ_IDS = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void reset() {
    READ_THREADS.clear();
    READ_IDS.clear();
  }

  /**
   * {@code meet} reads: that many must be under way at once. With one runner thread, the 4 lanes
   * of one group (calls in flight beyond the runner's threads); otherwise any 2.
   */
  @ParameterizedTest(name = "{0} ({2} threads), {1}, checkpoint after every call: {4}")
  @CsvSource({"DirectRunner, users, 4, 2, false", "DirectRunner, users, 1, 4, false", "FlinkRunner, users, 2, 2, false",
      "DirectRunner, metrics, 4, 2, false", "DirectRunner, metrics, 1, 4, false", "FlinkRunner, metrics, 2, 2, false",
      "DirectRunner, users, 4, 2, true", "FlinkRunner, metrics, 2, 2, true"})
  void aTablesSubRangesAreReadOnMoreThanOneThreadAtOnce(String runner, String table, int threads, int meet,
      boolean checkpointEveryCall) {
    meeting = new CountDownLatch(meet);
    // 128 users, pages of 1: 128 pages, 16 sub-ranges of 8 users. 253 metrics, one a minute, pages
    // of 2, windows of 10 minutes: 16 cuts, each moved down to a window boundary. 16 sub-ranges,
    // dealt into 4 groups of 4, each group read by one worker, its 4 ranges side by side.
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).rows("users", 128)
        .pageSize("users", 1).pageSize("metrics", 2)
        .clock(Clock.fixed(CAP, ZoneOffset.UTC)).start()) {
      SourceConfig config = new SourceConfig(source.baseUrl(), "u", Password.inline("p"), QUICK, BUDGET);
      TableDescriptor descriptor;
      try (ExampleClient client = ExampleClient.create(config)) {
        descriptor = TableCatalog.discover(client).table(table, "test");
      }
      ReadContext context = new ReadContext(config, descriptor, new RunStamp("run", 0), "main.example." + table);
      boolean windowed = table.equals("metrics");
      CursorFeed feed = new CursorFeed(table, false, Map.of(), null, null, Timestamps.toMicros(CAP), 1000, "upsert",
          windowed ? TEN_MINUTES_MICROS : null);
      FeedRangeReadFn read = windowed ? new MeetingReadWindowsFn(context) : new MeetingReadCursorFn(context);
      if (checkpointEveryCall) { // each lane pauses after a call: the runner resumes the read from its checkpoints
        read.checkpointingAfter(Duration.ZERO);
      }
      Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.fromArgs(runnerArgs(runner, threads)).create());
      pipeline
          .apply(Create.of(feed).withCoder(SerializableCoder.of(CursorFeed.class)))
          .apply(ReadSpread.feeds(read, RecordSchemas.schemaOf(descriptor)))
          .apply(ParDo.of(new KeepIds(descriptor.identityField())));
      pipeline.run().waitUntilFinish();

      assertTrue(READ_THREADS.size() >= meet, "sub-ranges read on threads " + READ_THREADS);
      String prefix = windowed ? "metric_" : "user_";
      List<String> expected = IntStream.range(0, windowed ? 253 : 128).mapToObj(i -> String.format("%s%04d", prefix, i)).toList();
      assertEquals(expected, READ_IDS.stream().sorted().toList(), "every record once");
    }
  }

  /**
   * Products as users above: 128 products, pages of 1, cut into 16 key ranges of 8 pages, dealt
   * into 4 groups of 4, each group read by one worker, its 4 ranges side by side.
   */
  @ParameterizedTest(name = "{0} ({1} threads), checkpoint after every page: {3}")
  @CsvSource({"DirectRunner, 4, 2, false", "DirectRunner, 1, 4, false", "FlinkRunner, 2, 2, false",
      "FlinkRunner, 2, 2, true"})
  void aSnapshotsKeyRangesAreReadOnMoreThanOneThreadAtOnce(String runner, int threads, int meet,
      boolean checkpointEveryPage) {
    meeting = new CountDownLatch(meet);
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).rows("products", 128)
        .pageSize("products", 1).clock(Clock.fixed(CAP, ZoneOffset.UTC)).start()) {
      SourceConfig config = new SourceConfig(source.baseUrl(), "u", Password.inline("p"), QUICK, BUDGET);
      TableDescriptor descriptor;
      try (ExampleClient client = ExampleClient.create(config)) {
        descriptor = TableCatalog.discover(client).table("products", "test");
      }
      ReadContext context = new ReadContext(config, descriptor, new RunStamp("run", 0), "main.example.products");
      ReadSnapshotPagesFn read = new MeetingReadSnapshotPagesFn(context);
      if (checkpointEveryPage) {
        read.checkpointingAfter(Duration.ZERO);
      }
      Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.fromArgs(runnerArgs(runner, threads)).create());
      pipeline
          .apply(Create.of(new SnapshotRead("products", Map.of())).withCoder(SerializableCoder.of(SnapshotRead.class)))
          .apply(ReadSpread.snapshot(read, RecordSchemas.schemaOf(descriptor)))
          .apply(ParDo.of(new KeepIds(descriptor.identityField())));
      pipeline.run().waitUntilFinish();

      assertTrue(READ_THREADS.size() >= meet, "key ranges read on threads " + READ_THREADS);
      List<String> expected = IntStream.range(0, 128).mapToObj(i -> String.format("prod_%04d", i)).toList();
      assertEquals(expected, READ_IDS.stream().sorted().toList(), "every product once");
    }
  }

  /**
   * A read's ranges fill a group up to the call budget before another group is made, and there
   * are at most four: a small read is one group, which one worker's lanes read all at once.
   */
  @Test
  void aGroupHoldsUpToTheCallBudgetOfRanges() {
    assertEquals(1, SplitRangesFn.groups(0, 64));
    assertEquals(1, SplitRangesFn.groups(16, 64));
    assertEquals(1, SplitRangesFn.groups(64, 64));
    assertEquals(2, SplitRangesFn.groups(83, 64), "667 pages of users in 83 ranges of 8 pages");
    assertEquals(4, SplitRangesFn.groups(256, 64));
    assertEquals(4, SplitRangesFn.groups(16, 4));
    assertEquals(4, SplitRangesFn.groups(1_000, 1), "at most four");
  }

  private static String[] runnerArgs(String runner, int threads) {
    return runner.equals("FlinkRunner")
        ? new String[] {"--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=" + threads}
        : new String[] {"--runner=DirectRunner", "--targetParallelism=" + threads};
  }

  /**
   * Waits, up to a minute, for a range's read on another thread; the wait bounds a failing run
   * only, the threads recorded tell.
   */
  private static void meet() {
    READ_THREADS.add(Thread.currentThread().getName() + " #" + Thread.currentThread().getId());
    meeting.countDown();
    try {
      meeting.await(1, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The real cursor read, after {@link #meet}. */
  static final class MeetingReadCursorFn extends ReadCursorFn {
    MeetingReadCursorFn(ReadContext context) {
      super(context);
    }

    @Override
    protected void readRange(CursorFeed feed, RestrictionTracker<OffsetRange, Long> range,
        CursorGroupReader<GenericRecord> reader) {
      meet();
      super.readRange(feed, range, reader);
    }
  }

  /** The real windowed read, after {@link #meet}. */
  static final class MeetingReadWindowsFn extends ReadWindowsFn {
    MeetingReadWindowsFn(ReadContext context) {
      super(context);
    }

    @Override
    protected void readRange(CursorFeed feed, RestrictionTracker<OffsetRange, Long> range,
        CursorGroupReader<GenericRecord> reader) {
      meet();
      super.readRange(feed, range, reader);
    }
  }

  /** The real snapshot read, after {@link #meet}. */
  static final class MeetingReadSnapshotPagesFn extends ReadSnapshotPagesFn {
    MeetingReadSnapshotPagesFn(ReadContext context) {
      super(context);
    }

    @Override
    void readRange(SnapshotRead read, RestrictionTracker<KeyRange, PageKeys> range,
        OutputReceiver<List<GenericRecord>> out, BooleanSupplier pause) {
      meet();
      super.readRange(read, range, out, pause);
    }
  }

  /** Keeps each row's identity. */
  static final class KeepIds extends DoFn<GenericRecord, Void> {
    private final String identityField;

    KeepIds(String identityField) {
      this.identityField = identityField;
    }

    @ProcessElement
    public void process(@Element GenericRecord row) {
      READ_IDS.add(String.valueOf(row.get(identityField)));
    }
  }
}
