package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Password;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.source.ExampleSource;
import com.example.testing.Receivers;
import com.example.testing.TestClock;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.DoFn.OutputReceiver;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every cursor feed split by its data ({@link SplitFeedFn}, {@link CursorRanges#byRecords}) and
 * its sub-ranges read one after another with {@link ReadCursorFn} as a runner would (checkpoints
 * included), against the simulated source over HTTP, while records are updated, inserted and
 * deleted between page requests. Then the next run's range {@code [cap, cap + 1 h)} is read the
 * same way: each record is read once by this run, or, written during it, left to the next.
 *
 * <p>Expected cuts and keys are written from the seed rules (row {@code i}: key {@code prefix +
 * i}, cursor {@code base + i} steps, one minute for users and one second for orders and events;
 * no nulls, so every order has its status) and the cut rule: {@code k = min(16, n / 4)}
 * sub-ranges of {@code n} pages, the {@code i}-th starting at the first record of page
 * {@code 1 + i * n / k}.
 */
class FeedSplitReadTest {
  private static final Instant BASE = Instant.parse("2024-01-01T00:00:00Z"); // the seed's base time
  private static final Instant CAP = Instant.parse("2025-06-01T00:00:00Z");
  private static final long SECOND = 1_000_000L;
  private static final long MINUTE = 60 * SECOND;
  private static final long HOUR = 60 * MINUTE;
  private static final RetryPolicy QUICK = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1));

  /** The source's clock, set by a test: tombstones at chosen instants, writes during a run at the cap. */
  private final TestClock clock = TestClock.frozenAt(CAP);
  private ExampleSource source;
  /** Writes to make when a reader first asks for records after a cursor in a given span. */
  private final List<Trigger> triggers = new CopyOnWriteArrayList<>();
  /** The query of every records request of the table under test made while reading. */
  private final List<String> readQueries = new CopyOnWriteArrayList<>();
  /** Records requests of the table under test while its feed is split. */
  private final AtomicInteger splitRequests = new AtomicInteger();
  private volatile String path; // the records path of the table under test
  private volatile boolean reading; // false while splitting
  /** How long the read DoFn reads before it checkpoints itself; zero: after every lane's call. */
  private Duration checkpointAfter = Duration.ofSeconds(SourceReadFn.CHECKPOINT_AFTER_SECONDS);

  @BeforeEach
  void start() {
    start(1);
  }

  /** The source, with {@code ties} records per cursor value; its requests of the table under test are watched. */
  private void start(int ties) {
    source = ExampleSource.builder().port(0).errorRate(0).nullRate(0).ties(ties).clock(clock)
        .pageSize("users", 3).pageSize("orders", 2).pageSize("metrics", 5).start();
    source.setRequestListener((method, requested, query) -> {
      if (!requested.equals(path)) {
        return;
      }
      if (!reading) {
        splitRequests.incrementAndGet();
        return;
      }
      readQueries.add(query);
      long since = Timestamps.parseMicros(param(query, "since"));
      triggers.forEach(t -> t.fireIfIn(since));
    });
  }

  @AfterEach
  void stop() {
    source.close();
  }

  @ParameterizedTest(name = "checkpoint after every call: {0}")
  @ValueSource(booleans = {false, true})
  void usersSplitIntoEqualRangesAndUpdatesDuringTheReadAreReadOnceByThisRunOrTheNext(boolean checkpointEveryCall) {
    checkpointAfter = checkpointEveryCall ? Duration.ZERO : checkpointAfter;
    CursorFeed feed = feed("users", false, Map.of(), "upsert");
    // 37 users, pages of 3: 13 pages, 3 sub-ranges cut at pages 5 and 9 (users 12 and 24).
    List<OffsetRange> expectedCuts = List.of(
        new OffsetRange(minutes(0), minutes(12)), new OffsetRange(minutes(12), minutes(24)),
        new OffsetRange(minutes(24), micros(CAP)));
    // In the first range, once past user 5 (and at most a page further, so before user 10):
    // user 2 was read, user 10 not yet, user 20 (second range) not yet.
    on(minutes(5), minutes(12), () -> upsertUsers("user_0002", "user_0010", "user_0020"));
    // In the third range, once past user 30: user 13 (second range) was read, user 35 not yet.
    on(minutes(30), micros(CAP), () -> upsertUsers("user_0013", "user_0035"));

    Reads reads = splitAndRead(feed, "/tables/users/records");

    // A checkpoint falls between calls, and costs none: no request is made twice.
    assertEquals(checkpointEveryCall ? reads.queries().size() : 3, reads.processCalls(),
        "process calls: one per sub-range, or one per call when each checkpoints");
    assertEquals(Set.copyOf(reads.queries()).size(), reads.queries().size(), () -> "a request made twice: " + reads.queries());

    assertEquals(expectedCuts, reads.cuts, "sub-ranges of 12, 12 and 13 users");
    assertEquals(19, reads.splitRequests, "the oldest record, then rounds of probes side by side: page 1; 2; "
        + "4, 8, 16, .., 512 (8 holds, 16 not); 9 to 15 (13 pages: 13 holds, 14 not); the cuts 5 and 9 (9 known)");
    List<String> firstRun = keys("user_", 0, 37);
    firstRun.removeAll(List.of("user_0010", "user_0020", "user_0035"));
    assertEquals(firstRun, reads.keys("user_id"), "this run: every user once, but those updated before read");
    assertEquals(List.of("user_0002", "user_0010", "user_0013", "user_0020", "user_0035"),
        sorted(nextRun(feed).keys("user_id")), "the next run: every user updated during this one, once");
  }

  @Test
  void aCutFallsOnACursorValueSoATieGroupAcrossPagesStaysWhole() {
    source.close();
    start(5); // users 5k..5k+4 share minute k
    CursorFeed feed = feed("users", false, Map.of(), "upsert");
    ReadContext context = context("users");
    path = "/tables/users/records";
    // 13 pages of 3; pages 5 and 9 start at users 12 and 24, inside the groups of minutes 2
    // (users 10-14) and 4 (users 20-24): the cuts are those minutes, each group goes whole to
    // the range it starts.
    List<OffsetRange> cuts = split(context, feed);
    assertEquals(List.of(new OffsetRange(minutes(0), minutes(2)), new OffsetRange(minutes(2), minutes(4)),
        new OffsetRange(minutes(4), micros(CAP))), cuts);
    assertEquals(keys("user_", 0, 10), keys(rows(context, feed, List.of(cuts.get(0)))));
    assertEquals(keys("user_", 10, 20), keys(rows(context, feed, List.of(cuts.get(1)))));
    assertEquals(keys("user_", 20, 37), keys(rows(context, feed, List.of(cuts.get(2)))));
  }

  @Test
  void metricsCutsMoveDownToWindowBoundaries() {
    CursorFeed feed = new CursorFeed("metrics", false, Map.of(), null, null, micros(CAP), 5, "upsert", HOUR);
    // 253 metrics, one a minute, pages of 5: 51 pages, 12 cuts at pages 5, 9, 13, 18, 22, 26, 30,
    // 35, 39, 43, 47 (metrics 20, 40, 60, 85, 105, 125, 145, 170, 190, 210, 230), moved down to
    // their hours: 0 (no cut), 60, 120 and 180 minutes.
    assertEquals(List.of(new OffsetRange(minutes(0), minutes(60)), new OffsetRange(minutes(60), minutes(120)),
            new OffsetRange(minutes(120), minutes(180)), new OffsetRange(minutes(180), micros(CAP))),
        split(context("metrics"), feed));
  }

  @Test
  void eventsWithALimitSplitByTheirOwnPagesAndInsertsDuringTheReadAreLeftForTheNextRun() {
    CursorFeed feed = feed("events", false, Map.of("limit", "4"), "insert");
    // 101 events, one a second, pages of min(limit, 50) = 4: 26 pages, 6 sub-ranges cut at
    // pages 5, 9, 14, 18 and 22 (events 16, 32, 52, 68 and 84).
    List<Long> starts = List.of(0L, 16L, 32L, 52L, 68L, 84L);
    on(seconds(20), seconds(32), () -> insertEvents("new_1", "new_2"));
    on(seconds(90), micros(CAP), () -> insertEvents("new_3"));

    Reads reads = splitAndRead(feed, "/tables/events/records");

    assertEquals(starts.stream().map(FeedSplitReadTest::seconds).toList(), reads.starts(), "sub-range starts");
    assertEquals(micros(CAP), reads.cuts.get(reads.cuts.size() - 1).getTo());
    List<String> seeded = IntStream.range(0, 101).mapToObj(i -> String.format("%012x", i)).toList();
    assertEquals(seeded, reads.keys("event_id").stream().map(id -> id.substring(id.length() - 12)).toList(),
        "this run: the 101 seeded events (their ids end in their index), each once");
    assertTrue(readQueries.stream().allMatch(q -> "4".equals(param(q, "limit"))), "every read keeps the limit");
    assertEquals(List.of("new_1", "new_2", "new_3"), sorted(nextRun(feed).keys("event_id")), "the next run");
  }

  @ParameterizedTest(name = "checkpoint after every call: {0}")
  @ValueSource(booleans = {false, true})
  void filteredOrdersSplitByTheFilteredPagesAndUpdatesAndDeletesAreReadOnceByThisRunOrTheNext(
      boolean checkpointEveryCall) {
    checkpointAfter = checkpointEveryCall ? Duration.ZERO : checkpointAfter;
    CursorFeed feed = feed("orders", false, Map.of("status", "shipped"), "upsert");
    // Shipped: orders 1, 4, ..., 100 (34). Pages of 2: 17 pages, 4 sub-ranges cut at pages 5, 9
    // and 13 (the 9th, 17th and 25th shipped: orders 25, 49 and 73), from order 1.
    List<OffsetRange> expectedCuts = List.of(
        new OffsetRange(seconds(1), seconds(25)), new OffsetRange(seconds(25), seconds(49)),
        new OffsetRange(seconds(49), seconds(73)), new OffsetRange(seconds(73), micros(CAP)));
    // In the second range, once past order 31 (at most a page further: before order 40): order 4
    // was read and is deleted, 7 was read and changes, 43 is deleted before read, 52 leaves the
    // filter before read, pending order 60 joins it.
    on(seconds(31), seconds(49), () -> {
      source.delete("orders", "order_0004");
      source.upsert("orders", Map.of("order_id", "order_0007", "status", "shipped", "amount", 1.0));
      source.delete("orders", "order_0043");
      source.upsert("orders", Map.of("order_id", "order_0052", "status", "pending"));
      source.upsert("orders", Map.of("order_id", "order_0060", "status", "shipped"));
    });

    Reads reads = splitAndRead(feed, "/tables/orders/records");

    assertEquals(checkpointEveryCall ? reads.queries().size() : 4, reads.processCalls(),
        "process calls: one per sub-range, or one per call when each checkpoints");
    assertEquals(Set.copyOf(reads.queries()).size(), reads.queries().size(), () -> "a request made twice: " + reads.queries());
    assertEquals(expectedCuts, reads.cuts, "sub-ranges of 8, 8, 8 and 10 shipped orders");
    List<String> firstRun = new ArrayList<>(IntStream.iterate(1, i -> i <= 100, i -> i + 3)
        .mapToObj(i -> String.format("order_%04d", i)).toList());
    firstRun.removeAll(List.of("order_0043", "order_0052"));
    assertEquals(firstRun, reads.keys("order_id"), "this run: every shipped order once, but those changed before read");
    assertTrue(readQueries.stream().allMatch(q -> "shipped".equals(param(q, "status"))), "every read keeps the filter");
    assertEquals(List.of("order_0007", "order_0060"), sorted(nextRun(feed).keys("order_id")),
        "the next run: orders shipped when changed during this one");
    assertEquals(List.of("order_0004", "order_0043"),
        sorted(nextRun(feed("orders", true, Map.of(), "delete")).keys("order_id")),
        "the next run's tombstones: orders deleted during this one");
  }

  @Test
  void tombstonesSplitByTheirPagesAndDeletesDuringTheReadAreLeftForTheNextRun() {
    Instant deletedFrom = CAP.minus(Duration.ofHours(1));
    for (int i = 0; i < 20; i++) { // tombstone i at deletedFrom + i seconds
      clock.set(deletedFrom.plusSeconds(i));
      source.delete("orders", String.format("order_%04d", i));
    }
    clock.set(CAP);
    long from = micros(deletedFrom);
    CursorFeed feed = feed("orders", true, Map.of(), "delete");
    // 20 tombstones, pages of 2: 10 pages, 2 sub-ranges cut at page 6 (tombstone 10).
    on(from + 3 * SECOND, from + 10 * SECOND, () -> source.delete("orders", "order_0050"));
    on(from + 12 * SECOND, micros(CAP), () -> source.delete("orders", "order_0060"));

    Reads reads = splitAndRead(feed, "/tables/orders/deleted_records");

    assertEquals(List.of(new OffsetRange(from, from + 10 * SECOND), new OffsetRange(from + 10 * SECOND, micros(CAP))),
        reads.cuts, "two sub-ranges of 10 tombstones");
    assertEquals(keys("order_", 0, 20), reads.keys("order_id"), "this run: the 20 earlier tombstones, each once");
    assertEquals(List.of("order_0050", "order_0060"), sorted(nextRun(feed).keys("order_id")), "the next run");
  }

  /**
   * All of a feed's sub-ranges as one group, read side by side in lanes, and split by the runner
   * after every {@code every}-th claim at {@code fraction} (0: a checkpoint, granted at once), the
   * residuals read in turn the same way: every record once.
   */
  @ParameterizedTest(name = "{0}, ties {1}, split after every {2} claims at {3}")
  @CsvSource({"users, 1, 3, 0.5", "users, 3, 2, 0.99", "users, 3, 5, 0", "users, 4, 1, 0.3", "users, 2, 7, 0.01",
      "orders, 1, 3, 0.5", "orders, 2, 2, 0", "orders, 3, 4, 0.9",
      "events, 1, 3, 0.5", "events, 3, 2, 0.2", "events, 2, 5, 0",
      "metrics, 1, 3, 0.5", "metrics, 3, 2, 0.7", "metrics, 2, 4, 0", "metrics, 1, 1, 0.99"})
  void aGroupSplitByTheRunnerMidReadLosesAndRepeatsNothing(String table, int ties, int every, double fraction) {
    source.close();
    start(ties);
    Map<String, String> params = switch (table) {
      case "orders" -> Map.of("status", "shipped");
      case "events" -> Map.of("limit", "4");
      default -> Map.of();
    };
    CursorFeed feed = new CursorFeed(table, false, params, null, null, micros(CAP), 5, "upsert",
        table.equals("metrics") ? HOUR : null);
    ReadContext context = context(table);
    List<OffsetRange> cuts = split(context, feed);
    assertTrue(cuts.size() > 1, "cuts: " + cuts);
    FeedRangeReadFn fn = table.equals("metrics") ? new ReadWindowsFn(context) : new ReadCursorFn(context);
    if (fraction == 0) {
      fn.checkpointingAfter(Duration.ZERO);
    }
    List<GenericRecord> rows = new ArrayList<>();
    OutputReceiver<List<GenericRecord>> out = Receivers.allInto(rows);
    FeedRanges element = new FeedRanges(feed, cuts);
    AtomicInteger claims = new AtomicInteger();
    java.util.Deque<LaneSet<OffsetRange>> work = new java.util.ArrayDeque<>(List.of(fn.initialRestriction(element)));
    int restrictions = 0;
    fn.setup();
    try {
      while (!work.isEmpty()) {
        assertTrue(++restrictions < 5_000, "residuals without end");
        SplittingTracker<LaneSet<OffsetRange>, LaneSet.Claim<Long>> tracker =
            new SplittingTracker<>(fn.newTracker(work.poll()), n -> n % every == 0, fraction, claims);
        boolean resume = fn.process(element, tracker, out).shouldResume();
        SplitResult<LaneSet<OffsetRange>> checkpoint = resume ? tracker.trySplit(0) : null;
        tracker.checkDone();
        work.addAll(tracker.residuals);
        if (checkpoint != null) {
          work.add(checkpoint.getResidual());
        }
      }
    } finally {
      fn.teardown();
    }
    String id = context.table().identityField();
    int count = switch (table) {
      case "users" -> 37;
      case "orders" -> 34;
      case "events" -> 101;
      default -> 253;
    };
    List<String> ids = rows.stream().map(r -> String.valueOf(r.get(id))).sorted().toList();
    assertEquals(count, Set.copyOf(ids).size(), "records read: " + ids);
    assertEquals(count, ids.size(), "records read twice: " + ids);
    assertTrue(restrictions > 2, "splits happened: " + restrictions);
  }

  // --- the runner's part ---

  /** What a split read produced: the sub-ranges, the calls that found them, and the rows. */
  private record Reads(List<OffsetRange> cuts, int splitRequests, List<GenericRecord> rows, int processCalls,
      List<String> queries) {
    /** The column's values, sorted: ranges read side by side interleave their rows. */
    List<String> keys(String column) {
      return rows.stream().map(r -> String.valueOf(r.get(column))).sorted().toList();
    }

    List<Long> starts() {
      return cuts.stream().map(OffsetRange::getFrom).toList();
    }
  }

  /** Splits the feed as the pipeline does, then reads each sub-range in order. */
  private Reads splitAndRead(CursorFeed feed, String recordsPath) {
    ReadContext context = context(feed.table());
    path = recordsPath;
    List<OffsetRange> cuts = split(context, feed);
    reading = true;
    List<GenericRecord> rows = new ArrayList<>();
    int processCalls = read(context, feed, cuts, rows);
    path = null;
    return new Reads(cuts, splitRequests.get(), rows, processCalls, List.copyOf(readQueries));
  }

  /** The next run: the range from this run's cap, as the planner gives it then. */
  private Reads nextRun(CursorFeed feed) {
    CursorFeed next = new CursorFeed(feed.table(), feed.tombstones(), feed.params(), micros(CAP), null,
        micros(CAP) + HOUR, feed.maxRecordsPerBatch(), feed.operation(), null);
    ReadContext context = context(feed.table());
    List<GenericRecord> rows = new ArrayList<>();
    int processCalls = read(context, next, split(context, next), rows);
    return new Reads(List.of(), 0, rows, processCalls, List.of());
  }

  /**
   * Reads each sub-range with Beam's tracker as a runner does: on {@code resume()} it takes the
   * checkpoint's residual ({@code trySplit(0)}) and processes that in turn. Returns the process calls.
   */
  private List<GenericRecord> rows(ReadContext context, CursorFeed feed, List<OffsetRange> cuts) {
    List<GenericRecord> rows = new ArrayList<>();
    read(context, feed, cuts, rows);
    return rows;
  }

  private int read(ReadContext context, CursorFeed feed, List<OffsetRange> cuts, List<GenericRecord> rows) {
    FeedRangeReadFn fn = new ReadCursorFn(context);
    fn.checkpointingAfter(checkpointAfter);
    int calls = 0;
    OutputReceiver<List<GenericRecord>> out = Receivers.allInto(rows);
    fn.setup();
    try {
      // One cut after another, so that the changes made during a range's read land where the
      // tests say (ReadSpreadTest reads ranges side by side).
      for (OffsetRange cut : cuts) {
        FeedRanges element = new FeedRanges(feed, List.of(cut));
        for (LaneSet<OffsetRange> restriction = fn.initialRestriction(element); restriction != null; ) {
          LaneSetTracker<OffsetRange, Long> tracker = fn.newTracker(restriction);
          calls++;
          boolean resume = fn.process(element, tracker, out).shouldResume();
          SplitResult<LaneSet<OffsetRange>> checkpoint = resume ? tracker.trySplit(0) : null;
          tracker.checkDone();
          restriction = checkpoint == null ? null : checkpoint.getResidual();
        }
      }
    } finally {
      fn.teardown();
    }
    return calls;
  }

  /** The feed's cuts, at least 4 pages apart: the scenarios' feeds hold 5 to 13 pages. */
  private static List<OffsetRange> split(ReadContext context, CursorFeed feed) {
    SplitFeedFn fn = new SplitFeedFn(context).cuttingEvery(4);
    fn.setup();
    try {
      return fn.split(feed);
    } finally {
      fn.teardown();
    }
  }

  private ReadContext context(String table) {
    SourceConfig config = new SourceConfig(source.baseUrl(), "u", Password.inline("p"), QUICK);
    try (ExampleClient client = ExampleClient.create(config)) {
      return new ReadContext(config, TableCatalog.discover(client).table(table, "test"),
          new RunStamp("run", 0), "main.example." + table);
    }
  }

  /** A first run's feed up to the cap, checkpointing every 5 records. */
  private static CursorFeed feed(String table, boolean tombstones, Map<String, String> params, String operation) {
    return new CursorFeed(table, tombstones, params, null, null, micros(CAP), 5, operation, null);
  }

  // --- writes during the read ---

  private void on(long sinceFrom, long sinceTo, Runnable writes) {
    triggers.add(new Trigger(sinceFrom, sinceTo, writes));
  }

  /** Runs its writes once, at the first read whose {@code since} is in {@code [from, to)}. */
  private static final class Trigger {
    private final long from;
    private final long to;
    private final AtomicReference<Runnable> writes;

    Trigger(long from, long to, Runnable writes) {
      this.from = from;
      this.to = to;
      this.writes = new AtomicReference<>(writes);
    }

    void fireIfIn(long since) {
      if (since >= from && since < to) {
        Runnable once = writes.getAndSet(null);
        if (once != null) {
          once.run();
        }
      }
    }
  }

  private void upsertUsers(String... ids) {
    for (String id : ids) {
      source.upsert("users", Map.of("user_id", id, "email", id + "@changed"));
    }
  }

  private void insertEvents(String... ids) {
    for (String id : ids) {
      source.upsert("events", Map.of("event_id", id, "event_type", "click"));
    }
  }

  // --- expectations ---

  private static String param(String query, String name) {
    for (String pair : query.split("&")) {
      if (pair.startsWith(name + "=")) {
        return URLDecoder.decode(pair.substring(name.length() + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private static List<String> keys(String prefix, int from, int to) {
    return new ArrayList<>(IntStream.range(from, to).mapToObj(i -> String.format("%s%04d", prefix, i)).toList());
  }

  private static List<String> keys(List<GenericRecord> users) {
    return users.stream().map(r -> String.valueOf(r.get("user_id"))).toList();
  }

  private static List<String> sorted(List<String> keys) {
    List<String> copy = new ArrayList<>(keys);
    Collections.sort(copy);
    return copy;
  }

  private static long micros(Instant instant) {
    return Timestamps.toMicros(instant);
  }

  private static long minutes(long n) {
    return micros(BASE) + n * MINUTE;
  }

  private static long seconds(long n) {
    return micros(BASE) + n * SECOND;
  }
}
