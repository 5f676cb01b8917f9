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
import com.example.connector.read.ReadContext;
import com.example.connector.read.ReadCursorFn;
import com.example.connector.read.ReadFeedRanges;
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
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One table's sub-ranges are read by more than one worker at the same time: on the DirectRunner
 * (4 threads) and on Flink embedded (batch, parallelism 2; an unsplit feed is read by one
 * subtask). The read DoFn is the real one, wrapped so that each call first waits, up to a minute,
 * for a call on another thread: a runner that reads the sub-ranges one after another never gets
 * two calls to meet, and records one thread.
 */
class FeedRangesSpreadTest {
  private static final Instant CAP = Instant.parse("2025-06-01T00:00:00Z");
  private static final RetryPolicy QUICK = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1));

  /** Shared with the DoFns, which runners copy by serialization: static, one test at a time. */
  private static volatile CountDownLatch meeting;
  private static final Set<String> READ_THREADS = ConcurrentHashMap.newKeySet();
  private static final Queue<String> READ_USERS = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void reset() {
    meeting = new CountDownLatch(2);
    READ_THREADS.clear();
    READ_USERS.clear();
  }

  @ParameterizedTest
  @ValueSource(strings = {"DirectRunner", "FlinkRunner"})
  void aTablesSubRangesAreReadOnMoreThanOneWorkerAtOnce(String runner) throws Exception {
    // 37 users, pages of 1: 37 pages, 9 sub-ranges of about 4 users.
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).pageSize("users", 1)
        .clock(Clock.fixed(CAP, ZoneOffset.UTC)).start()) {
      SourceConfig config = new SourceConfig(source.baseUrl(), "u", Password.inline("p"), QUICK);
      TableDescriptor users;
      try (ExampleClient client = ExampleClient.create(config)) {
        users = TableCatalog.discover(client).table("users", "test");
      }
      ReadContext context = new ReadContext(config, users, new RunStamp("run", 0), "main.example.users");
      CursorFeed feed = new CursorFeed("users", false, Map.of(), null, null, Timestamps.toMicros(CAP), 1000, "upsert", null);
      String[] args = runner.equals("FlinkRunner")
          ? new String[] {"--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2"}
          : new String[] {"--runner=DirectRunner", "--targetParallelism=4"};
      Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.fromArgs(args).create());
      pipeline
          .apply(Create.of(feed).withCoder(SerializableCoder.of(CursorFeed.class)))
          .apply(new ReadFeedRanges(new MeetingReadCursorFn(context), RecordSchemas.schemaOf(users)))
          .apply(ParDo.of(new KeepUserIds()));
      pipeline.run().waitUntilFinish();

      assertTrue(READ_THREADS.size() >= 2, "sub-ranges read on threads " + READ_THREADS);
      List<String> expected = IntStream.range(0, 37).mapToObj(i -> String.format("user_%04d", i)).toList();
      assertEquals(expected, READ_USERS.stream().sorted().toList(), "every user once");
    }
  }

  /** The real read, after meeting a call on another thread (or a minute passing without one). */
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
      READ_THREADS.add(Thread.currentThread().getName() + " #" + Thread.currentThread().getId());
      meeting.countDown();
      try {
        meeting.await(1, TimeUnit.MINUTES); // bounds a failing run only: the threads tell
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      return super.process(element, tracker, out);
    }
  }

  static final class KeepUserIds extends DoFn<GenericRecord, Void> {
    @ProcessElement
    public void process(@Element GenericRecord row) {
      READ_USERS.add(String.valueOf(row.get("user_id")));
    }
  }
}
