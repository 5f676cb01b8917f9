package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.SourceRows;
import com.example.connector.catalog.FieldType;
import com.example.connector.catalog.IngestionType;
import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.SourceField;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.TableDescriptor;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Password;
import com.example.connector.client.RawHttpServer;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.connector.client.SourceException;
import com.example.connector.read.CursorGroupReader.Outcome;
import com.example.source.ExampleSource;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.MetricName;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link CursorGroupReader}, the heart of no-loss reading, against the simulated source: tie
 * groups across pages, groups larger than a page changing mid-read, splits and checkpoints at
 * claimed positions, {@code start_timestamp}; and against a misbehaving server: a page delivered
 * again after a cut, records that break the schema.
 *
 * <p>Expected records come from the seed rules: row {@code i} of a table has key
 * {@code prefix + i} (zero-padded to 4 digits) and cursor {@code base + floor(i / ties)} steps
 * (users and metrics: one minute a step).
 */
class CursorGroupReaderTest {
  private static final Instant BASE = Instant.parse("2024-01-01T00:00:00Z"); // the seed's base time
  private static final Instant SOURCE_NOW = Instant.parse("2025-06-01T00:00:00Z");
  private static final long MINUTE = 60_000_000L;
  private static final RetryPolicy QUICK = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1));
  /** Pages are counted in Beam metrics, which a test outside a pipeline has no container for. */
  private static final Counter PAGES = new Counter() {
    @Override
    public void inc() {}

    @Override
    public void inc(long n) {}

    @Override
    public void dec() {}

    @Override
    public void dec(long n) {}

    @Override
    public MetricName getName() {
      return MetricName.named("test", "pages");
    }
  };

  private static ExampleSource.Builder source() {
    return ExampleSource.builder().port(0).errorRate(0).clock(Clock.fixed(SOURCE_NOW, ZoneOffset.UTC));
  }

  private static ExampleClient client(URI baseUrl) {
    return ExampleClient.create(new SourceConfig(baseUrl, "u", Password.inline("p"), QUICK));
  }

  private static long base(long minutes) {
    return Timestamps.toMicros(BASE) + minutes * MINUTE;
  }

  private static CursorFeed usersFeed(long capMicros, int maxRecordsPerBatch) {
    return new CursorFeed("users", false, Map.of(), null, null, capMicros, maxRecordsPerBatch, "upsert", null);
  }

  /** {@code prefix} + 4-digit index, for indexes {@code [from, to)}. */
  private static List<String> keys(String prefix, int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> String.format("%s%04d", prefix, i)).toList();
  }

  /** Keeps every record emitted, unconverted, and the rows of each flush. */
  private static final class Collected implements CursorGroupReader.Sink<ObjectNode> {
    final List<ObjectNode> emitted = new ArrayList<>();

    @Override
    public ObjectNode convert(ObjectNode record) {
      return record;
    }

    @Override
    public void emit(ObjectNode row) {
      emitted.add(row);
    }

    @Override
    public void flush() {}
  }

  /** What a runner got from reading a feed: every record, and the records of each call. */
  private record Run(List<ObjectNode> records, List<Integer> perCall) {
    List<String> keys(String identity) {
      return records.stream().map(r -> r.get(identity).asText()).toList();
    }
  }

  /**
   * Reads {@code range} as a runner would: each restriction by a reader of its own, and every
   * residual a runner-initiated split or checkpoint left read next.
   */
  private static Run readLikeARunner(
      ExampleClient client, CursorFeed feed, String cursor, String identity, OffsetRange range,
      IntPredicate splitAfter, double fraction) {
    Deque<OffsetRange> work = new ArrayDeque<>(List.of(range));
    AtomicInteger claims = new AtomicInteger();
    List<ObjectNode> records = new ArrayList<>();
    List<Integer> perCall = new ArrayList<>();
    while (!work.isEmpty()) {
      OffsetRange restriction = work.poll();
      SplittingTracker<OffsetRange, Long> tracker =
          new SplittingTracker<>(new OffsetRangeTracker(restriction), splitAfter, fraction, claims);
      Collected sink = new Collected();
      CursorGroupReader<ObjectNode> reader = new CursorGroupReader<>(client, feed, cursor, identity, tracker, sink, PAGES, () -> false);
      reader.read(restriction.getFrom(), null);
      work.addAll(tracker.residuals);
      records.addAll(sink.emitted);
      perCall.add(sink.emitted.size());
    }
    return new Run(records, perCall);
  }

  private static Run readUsers(ExampleClient client, long cap, int batch) {
    return readLikeARunner(client, usersFeed(cap, batch), "updated_at", "user_id",
        new OffsetRange(base(0), cap), n -> false, 0);
  }

  @Test
  void tieGroupsAcrossPagesAreReadWholeAndOnce() {
    // 64 users, 4 per minute: pages of 15 cut groups; the cap (minute 15) leaves out users 60-63.
    try (ExampleSource source = source().rows("users", 64).ties(4).start();
        ExampleClient client = client(source.baseUrl())) {
      Run run = readUsers(client, base(15), 10_000);
      assertEquals(keys("user_", 0, 60), run.keys("user_id"));
    }
  }

  @Test
  void aReadGoesToTheEndOfItsRangeInOneCallWhateverTheBatchSize() {
    try (ExampleSource source = source().rows("users", 64).ties(4).start();
        ExampleClient client = client(source.baseUrl())) {
      Run run = readUsers(client, base(15), 10);
      assertEquals(keys("user_", 0, 60), run.keys("user_id"));
      // No checkpoint of its own: batches are the sink's, checkpoints and splits the runner's.
      assertEquals(List.of(60), run.perCall());
    }
  }

  @Test
  void recordsUpdatedBehindTheReaderShiftNoPageUnderIt() {
    try (ExampleSource source = source().rows("users", 37).start();
        ExampleClient client = client(source.baseUrl())) {
      AtomicInteger requests = new AtomicInteger();
      source.setRequestListener((method, path, query) -> {
        if (requests.incrementAndGet() == 2) { // after page 1 was read: user_0001 moves to the source's now
          source.upsert("users", Map.of("user_id", "user_0001", "email", "moved@example.com"));
        }
      });
      Run run = readUsers(client, Timestamps.toMicros(SOURCE_NOW), 10_000);
      assertEquals(keys("user_", 0, 37), run.keys("user_id"));
      assertEquals("user1@example.com", run.records().get(1).get("email").asText(), "the version read before the update");
    }
  }

  @Test
  void aGroupLargerThanAPageThatChangesMidReadIsReadWholeAndOnce() {
    // 40 users share one cursor: pages of 15 by user_id. When page 2 is asked for, user_0003 leaves
    // the group (updated to the source's now, the cap), so page 2 starts one record later: the
    // reader's re-read of page 1 sees its last record change and rescans.
    try (ExampleSource source = source().rows("users", 40).ties(40).start();
        ExampleClient client = client(source.baseUrl())) {
      AtomicBoolean moved = new AtomicBoolean();
      List<String> queries = new ArrayList<>();
      source.setRequestListener((method, path, query) -> {
        queries.add(query);
        if (query != null && query.contains("page=2") && !moved.getAndSet(true)) {
          source.upsert("users", Map.of("user_id", "user_0003", "email", "moved@example.com"));
        }
      });
      Run run = readUsers(client, Timestamps.toMicros(SOURCE_NOW), 10_000);
      assertEquals(keys("user_", 0, 40), run.keys("user_id"));
      assertEquals("user3@example.com", run.records().get(3).get("email").asText());
      assertTrue(moved.get());
      long rescans = queries.stream().filter(q -> !q.contains("page=")).count();
      assertTrue(rescans >= 3, "page 1 read, rescanned, and read after the group: " + queries);
    }
  }

  /**
   * A runner splits after the {@code k}-th claim of the run, at the claimed position
   * ({@code fraction} 0, a checkpoint) or halfway through what is left; the reads of the primary
   * and the residuals together hold every record once. Groups of 4 fit in a page of 15, groups
   * of 20 do not.
   */
  @ParameterizedTest
  @CsvSource({
    "4, 1, 0", "4, 2, 0", "4, 5, 0", "4, 14, 0", "4, 15, 0", "4, 1, 0.5", "4, 3, 0.5", "4, 7, 0.5",
    "20, 1, 0", "20, 2, 0", "20, 3, 0", "20, 1, 0.5", "20, 2, 0.5",
  })
  void splitsAtAnyClaimedPositionLoseAndRepeatNothing(int ties, int k, double fraction) {
    int groups = 60 / ties;
    try (ExampleSource source = source().rows("users", 60 + ties).ties(ties).start();
        ExampleClient client = client(source.baseUrl())) {
      long cap = base(groups);
      Run run = readLikeARunner(client, usersFeed(cap, 10_000), "updated_at", "user_id",
          new OffsetRange(base(0), cap), n -> n == k, fraction);
      List<String> sorted = run.keys("user_id").stream().sorted().toList();
      assertEquals(keys("user_", 0, 60), sorted);
      assertTrue(run.perCall().size() >= 2, "the split left a residual: " + run.perCall());
    }
  }

  private static CursorFeed metricsFeed(Long startMicros, long cap) {
    return new CursorFeed("metrics", false, Map.of(), null, startMicros, cap, 10_000, "upsert", 3_600_000_000L);
  }

  @Test
  void startTimestampStartsTheRangeAndTheReadThere() {
    // 253 metrics, one a minute from the base; start between minutes 100 and 101.
    long start = base(100) + 30_000_000L;
    long cap = Timestamps.toMicros(SOURCE_NOW);
    try (ExampleSource source = source().start(); ExampleClient client = client(source.baseUrl())) {
      assertEquals(new OffsetRange(base(0), cap), CursorRanges.initial(client, metricsFeed(null, cap), "updated_at"));
      OffsetRange range = CursorRanges.initial(client, metricsFeed(start, cap), "updated_at");
      assertEquals(new OffsetRange(start, cap), range);
      Run run = readLikeARunner(client, metricsFeed(start, cap), "updated_at", "metric_id", range, n -> false, 0);
      assertEquals(keys("metric_", 101, 253), run.keys("metric_id"));
    }
  }

  @Test
  void aWindowReadAsksForItsWindowOnly() {
    long start = base(100) + 30_000_000L;
    long cap = Timestamps.toMicros(SOURCE_NOW);
    try (ExampleSource source = source().start(); ExampleClient client = client(source.baseUrl())) {
      Collected sink = new Collected();
      OffsetRangeTracker tracker = new OffsetRangeTracker(new OffsetRange(start, cap));
      CursorGroupReader<ObjectNode> reader = new CursorGroupReader<>(
          client, metricsFeed(start, cap), "updated_at", "metric_id", tracker, sink, PAGES, () -> false);
      assertEquals(Outcome.EXHAUSTED, reader.read(start, start + 10 * MINUTE));
      assertEquals(keys("metric_", 101, 111),
          sink.emitted.stream().map(r -> r.get("metric_id").asText()).toList());
    }
  }

  /**
   * A runner's split that lands after a window read looked at its range's end and jumped past an
   * empty stretch: the read goes on from above the new end. It asks the source nothing and marks
   * the range done (it left it unattempted, and the runner found it not read to its end).
   */
  @Test
  void aReadThatStartsPastItsRangesEndMarksTheRangeDone() {
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> out.write(RawHttpServer.json("{}")));
        ExampleClient client = client(server.baseUrl())) {
      OffsetRangeTracker tracker = new OffsetRangeTracker(new OffsetRange(base(0), base(60)));
      assertTrue(tracker.tryClaim(base(5)));
      long end = tracker.trySplit(0.5).getPrimary().getTo();
      CursorGroupReader<ObjectNode> reader = new CursorGroupReader<>(
          client, usersFeed(base(60), 10_000), "updated_at", "user_id", tracker, new Collected(), PAGES, () -> false);

      assertEquals(CursorGroupReader.Outcome.STOPPED, reader.read(end + MINUTE, null));

      tracker.checkDone();
      assertEquals(List.of(), server.requests());
    }
  }

  // --- a misbehaving server ---

  private static String user(String key, int minute) {
    return "{\"user_id\": \"" + key + "\", \"updated_at\": \"" + Timestamps.formatMicros(base(minute)) + "\"}";
  }

  @Test
  void aPageDeliveredAgainAfterACutEmitsEachRecordOnce() {
    String page = "{\"records\": [" + String.join(", ",
        user("a1", 0), user("a2", 0), user("b1", 1), user("b2", 1), user("c1", 2)) + "], \"next_page\": null}";
    String cut = page.substring(0, page.indexOf("{\"user_id\": \"b2\""));
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> {
      if (n == 1) { // Content-Length promises the whole page; the connection closes after b1
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + page.length()
            + "\r\nConnection: close\r\n\r\n" + cut).getBytes(StandardCharsets.UTF_8));
      } else {
        out.write(RawHttpServer.json(page));
      }
    }); ExampleClient client = client(server.baseUrl())) {
      Run run = readUsers(client, base(60), 10_000);
      assertEquals(List.of("a1", "a2", "b1", "b2", "c1"), run.keys("user_id"));
      assertEquals(2, server.requests().size());
    }
  }

  /**
   * A server of this API whose timestamps carry nanoseconds (as Go's RFC 3339 form writes them),
   * with pages of 3: it compares {@code since} as an instant, so {@code since} at a record's whole
   * microsecond still returns that record. Every user is read once (the reader moved {@code since}
   * to the last complete group's microsecond after each page and emitted that group again).
   */
  @Test
  void cursorsWithNanosecondsAreReadOnce() {
    List<String> keys = List.of("u1", "u2", "u3", "u4", "u5", "u6");
    List<Instant> at = IntStream.range(0, keys.size())
        .mapToObj(i -> BASE.plusSeconds(60L * i).plusNanos(500)).toList();
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> {
      Map<String, String> query = new HashMap<>();
      String target = line.split(" ")[1];
      for (String p : target.substring(target.indexOf('?') + 1).split("&")) {
        query.put(p.substring(0, p.indexOf('=')),
            URLDecoder.decode(p.substring(p.indexOf('=') + 1), StandardCharsets.UTF_8));
      }
      Instant since = Instant.parse(query.get("since").replace("+00:00", "Z"));
      List<Integer> after = IntStream.range(0, keys.size()).filter(i -> at.get(i).isAfter(since)).boxed().toList();
      int page = Integer.parseInt(query.getOrDefault("page", "1"));
      List<Integer> slice = after.subList(Math.min(after.size(), 3 * (page - 1)), Math.min(after.size(), 3 * page));
      String records = String.join(", ", slice.stream().map(i -> "{\"user_id\": \"" + keys.get(i)
          + "\", \"updated_at\": \"" + at.get(i) + "\"}").toList());
      out.write(RawHttpServer.json("{\"records\": [" + records + "], \"next_page\": "
          + (after.size() > 3 * page ? page + 1 : null) + "}"));
    }); ExampleClient client = client(server.baseUrl())) {
      Run run = readUsers(client, base(60), 10_000);
      assertEquals(keys, run.keys("user_id"));
    }
  }

  private static String tombstone(String key, int minute) {
    return "{\"order_id\": \"" + key + "\", \"user_id\": null, \"amount\": null, \"status\": null,"
        + " \"updated_at\": \"" + Timestamps.formatMicros(base(minute)) + "\"}";
  }

  /**
   * The source API orders tombstones by {@code updated_at} only: a server may give those of one
   * instant in another order than their keys' (here, as deleted). A group larger than a page in
   * that order loses none of them (the reader kept only keys above the last emitted, and dropped
   * o1 and o2).
   */
  @Test
  void tombstonesTiedAcrossPagesInAnOrderOtherThanTheirKeysAreEachEmittedOnce() {
    String tied = URLEncoder.encode(Timestamps.formatMicros(base(0)), StandardCharsets.UTF_8);
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> {
      String page;
      if (line.contains("since=" + tied)) { // after the group
        page = "{\"records\": [" + tombstone("o9", 1) + "], \"next_page\": null}";
      } else if (line.contains("page=2")) {
        page = "{\"records\": [" + tombstone("o2", 0) + ", " + tombstone("o9", 1) + "], \"next_page\": null}";
      } else {
        page = "{\"records\": [" + tombstone("o3", 0) + ", " + tombstone("o1", 0) + "], \"next_page\": 2}";
      }
      out.write(RawHttpServer.json(page));
    }); ExampleClient client = client(server.baseUrl())) {
      CursorFeed tombstones = new CursorFeed("orders", true, Map.of(), null, null, base(60), 10_000, "delete", null);
      Run run = readLikeARunner(client, tombstones, "updated_at", "order_id", new OffsetRange(base(0), base(60)),
          n -> false, 0);
      assertEquals(List.of("o3", "o1", "o2", "o9"), run.keys("order_id"));
    }
  }

  private static final TableDescriptor ORDERS = new TableDescriptor(
      "orders",
      List.of(SourceField.of("order_id", FieldType.STRING, false), SourceField.of("user_id", FieldType.STRING, true),
          SourceField.of("amount", FieldType.DOUBLE, true), SourceField.of("status", FieldType.STRING, true),
          SourceField.of("updated_at", FieldType.TIMESTAMP, true)),
      List.of("order_id"), "updated_at", "order_id", IngestionType.CDC_WITH_DELETES);

  /** Converts as the read DoFns do ({@link SourceReadFn.Rows}). */
  private static final class Rows implements CursorGroupReader.Sink<GenericRecord> {
    private final TableDescriptor table;
    private final Schema schema;

    Rows(TableDescriptor table) {
      this.table = table;
      this.schema = RecordSchemas.schemaOf(table);
    }

    @Override
    public GenericRecord convert(ObjectNode record) {
      return SourceRows.toRow(schema, table, record, new RunStamp("run", 0), "upsert");
    }

    @Override
    public void emit(GenericRecord row) {}

    @Override
    public void flush() {}
  }

  /** A record that breaks the table's schema fails the read naming the request, column and value. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
    "metrics | false | {\"metric_id\": null, \"updated_at\": \"2024-01-01T00:00:00Z\"}"
        + " | GET /tables/metrics/records?since= | column metric_id should not be null",
    "metrics | false | {\"updated_at\": \"2024-01-01T00:00:00Z\"}"
        + " | GET /tables/metrics/records?since= | column metric_id should not be null (the source's schema declares it not nullable) but was missing",
    "metrics | false | {\"metric_id\": \"m\", \"updated_at\": null}"
        + " | GET /tables/metrics/records?since= | has no valid cursor: column updated_at should be an ISO-8601 timestamp but was null",
    "metrics | false | {\"metric_id\": \"m\", \"host\": 7, \"updated_at\": \"2024-01-01T00:00:00Z\"}"
        + " | GET /tables/metrics/records?since= | column host should be a string but was 7",
    "metrics | false | {\"metric_id\": \"m\", \"value\": {\"count\": \"x\"}, \"updated_at\": \"2024-01-01T00:00:00Z\"}"
        + " | GET /tables/metrics/records?since= | column value.count should be an integer but was \"x\"",
    "orders | false | {\"order_id\": null, \"updated_at\": \"2024-01-01T00:00:00Z\"}"
        + " | GET /tables/orders/records?since= | column order_id should not be null",
    "orders | true | {\"order_id\": null, \"updated_at\": \"2024-01-01T00:00:00Z\"}"
        + " | GET /tables/orders/deleted_records?since= | column order_id should not be null",
    "orders | false | {\"order_id\": \"o\", \"amount\": \"12\", \"updated_at\": \"2024-01-01T00:00:00Z\"}"
        + " | GET /tables/orders/records?since= | column amount should be a number but was \"12\"",
  })
  void aRecordThatBreaksTheSchemaFailsNamingRequestColumnAndValue(
      String table, boolean tombstones, String record, String request, String problem) {
    TableDescriptor descriptor = table.equals("orders") ? ORDERS : TableCatalog.METRICS;
    String page = "{\"records\": [" + record + "], \"next_page\": null}";
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> out.write(RawHttpServer.json(page)));
        ExampleClient client = client(server.baseUrl())) {
      CursorFeed feed = new CursorFeed(table, tombstones, Map.of(), null, null, base(60), 100, "upsert", null);
      OffsetRangeTracker tracker = new OffsetRangeTracker(new OffsetRange(base(0), base(60)));
      CursorGroupReader<GenericRecord> reader = new CursorGroupReader<>(
          client, feed, "updated_at", descriptor.identityField(), tracker, new Rows(descriptor), PAGES, () -> false);
      SourceException e = assertThrows(SourceException.class, () -> reader.read(base(0), null));
      assertTrue(e.getMessage().startsWith(request), e.getMessage());
      assertTrue(e.getMessage().contains("a record of table " + table), e.getMessage());
      assertTrue(e.getMessage().contains(problem), e.getMessage());
      assertEquals(1, server.requests().size(), "a record that breaks the schema is not retried");
    }
  }
}
