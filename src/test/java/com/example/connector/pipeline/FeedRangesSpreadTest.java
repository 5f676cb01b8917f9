package com.example.connector.pipeline;

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
import com.example.connector.read.CursorFeed;
import com.example.connector.read.FeedRange;
import com.example.connector.read.FeedRangeReadFn;
import com.example.connector.read.ReadContext;
import com.example.connector.read.ReadCursorFn;
import com.example.connector.read.ReadFeedRanges;
import com.example.connector.read.ReadWindowsFn;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One table's sub-ranges (users' probed ones, metrics' windows) are read by more than one worker
 * at the same time: on the DirectRunner (4 threads) and on Flink embedded (batch, parallelism 2;
 * an unsplit feed is read by one subtask). The read DoFn is the real one, wrapped so that each call first waits, up to a minute,
 * for a call on another thread: a runner that reads the sub-ranges one after another never gets
 * two calls to meet, and records one thread.
 */
class FeedRangesSpreadTest {
  private static final Instant CAP = Instant.parse("2025-06-01T00:00:00Z");
  private static final long TEN_MINUTES_MICROS = 600_000_000L;
  private static final RetryPolicy QUICK = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1));

  /** Shared with the DoFns, which runners copy by serialization: static, one test at a time. */
  private static volatile CountDownLatch meeting;
  private static final Set<String> READ_THREADS = ConcurrentHashMap.newKeySet();
  private static final Queue<String> READ_IDS = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void reset() {
    meeting = new CountDownLatch(2);
    READ_THREADS.clear();
    READ_IDS.clear();
  }

  @ParameterizedTest(name = "{0}, {1}")
  @CsvSource({"DirectRunner, users", "FlinkRunner, users", "DirectRunner, metrics", "FlinkRunner, metrics"})
  void aTablesSubRangesAreReadOnMoreThanOneWorkerAtOnce(String runner, String table) {
    // 64 users, pages of 1: 64 pages, 16 sub-ranges of 4 users. 253 metrics, one a minute, pages
    // of 4, windows of 10 minutes: 16 cuts, each moved down to a window boundary. 16 sub-ranges,
    // so that a runner spreading them by a hash of their keys (Flink batch) spreads them in fact:
    // with 4, one CI run found them all on one subtask.
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).rows("users", 64)
        .pageSize("users", 1).pageSize("metrics", 4)
        .clock(Clock.fixed(CAP, ZoneOffset.UTC)).start()) {
      SourceConfig config = new SourceConfig(source.baseUrl(), "u", Password.inline("p"), QUICK);
      TableDescriptor descriptor;
      try (ExampleClient client = ExampleClient.create(config)) {
        descriptor = TableCatalog.discover(client).table(table, "test");
      }
      ReadContext context = new ReadContext(config, descriptor, new RunStamp("run", 0), "main.example." + table);
      boolean windowed = table.equals("metrics");
      CursorFeed feed = new CursorFeed(table, false, Map.of(), null, null, Timestamps.toMicros(CAP), 1000, "upsert",
          windowed ? TEN_MINUTES_MICROS : null);
      FeedRangeReadFn read = windowed ? new MeetingReadWindowsFn(context) : new MeetingReadCursorFn(context);
      String[] args = runner.equals("FlinkRunner")
          ? new String[] {"--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2"}
          : new String[] {"--runner=DirectRunner", "--targetParallelism=4"};
      Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.fromArgs(args).create());
      pipeline
          .apply(Create.of(feed).withCoder(SerializableCoder.of(CursorFeed.class)))
          .apply(new ReadFeedRanges(read, RecordSchemas.schemaOf(descriptor)))
          .apply(ParDo.of(new KeepIds(descriptor.identityField())));
      pipeline.run().waitUntilFinish();

      assertTrue(READ_THREADS.size() >= 2, "sub-ranges read on threads " + READ_THREADS);
      String prefix = windowed ? "metric_" : "user_";
      List<String> expected = IntStream.range(0, windowed ? 253 : 64).mapToObj(i -> String.format("%s%04d", prefix, i)).toList();
      assertEquals(expected, READ_IDS.stream().sorted().toList(), "every record once");
    }
  }

  /**
   * Waits, up to a minute, for a read call on another thread; the wait bounds a failing run
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
    @ProcessElement
    public ProcessContinuation process(
        @Element FeedRange element,
        RestrictionTracker<OffsetRange, Long> tracker,
        OutputReceiver<List<GenericRecord>> out) {
      meet();
      return super.process(element, tracker, out);
    }
  }

  /** The real windowed read, after {@link #meet}. */
  static final class MeetingReadWindowsFn extends ReadWindowsFn {
    MeetingReadWindowsFn(ReadContext context) {
      super(context);
    }

    @Override
    @ProcessElement
    public ProcessContinuation process(
        @Element FeedRange element,
        RestrictionTracker<OffsetRange, Long> tracker,
        OutputReceiver<List<GenericRecord>> out) {
      meet();
      return super.process(element, tracker, out);
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
