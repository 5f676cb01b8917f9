package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.TableDescriptor;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Password;
import com.example.connector.client.RawHttpServer;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.connector.client.SourceException;
import com.example.connector.read.ReadSnapshotPagesFn.KeyRange;
import com.example.connector.read.ReadSnapshotPagesFn.PageKeys;
import com.example.connector.read.ReadSnapshotPagesFn.PageKeysTracker;
import com.example.source.ApiError;
import com.example.source.ExampleSource;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.range.ByteKey;
import org.apache.beam.sdk.io.range.ByteKeyRange;
import org.apache.beam.sdk.transforms.DoFn.OutputReceiver;
import org.joda.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The products snapshot read, driven as a runner drives a Splittable DoFn (initial splits, then
 * each range with Beam's tracker, split or checkpointed mid-read, residuals read after), against
 * the simulated source over HTTP while products whose keys sort first are inserted between page
 * requests: every seeded product is read, and no row twice.
 */
class SnapshotReadTest {
  /** How many page requests a group read under inserts may make (one row inserted before each). */
  private static final int MAX_PAGE_REQUESTS = 100_000;
  /** 106 pages of 20. */
  private static final int PRODUCTS = 2120;
  private static final RetryPolicy FAST = new RetryPolicy(5, Duration.ofMillis(1), Duration.ofMillis(2));
  private static final SnapshotRead READ = new SnapshotRead("products", Map.of());
  private static final KeyRange ALL = new KeyRange(ByteKeyRange.ALL_KEYS, 1);

  private ExampleSource source;
  private TableDescriptor products;
  /** Keys inserted while reading; each sorts right after prod_0000, before every other seed key. */
  private final Set<String> inserted = ConcurrentHashMap.newKeySet();
  /** Whether the test reads (after the initial split): only then are page requests counted and rows inserted. */
  private final AtomicBoolean reading = new AtomicBoolean();
  /** Products page requests while reading. */
  private final AtomicInteger pageRequests = new AtomicInteger();

  @BeforeEach
  void start() {
    source = ExampleSource.builder().port(0).errorRate(0).rows("products", PRODUCTS).start();
    try (ExampleClient client = ExampleClient.create(config(source.baseUrl()))) {
      products = TableCatalog.discover(client).table("products", "test");
    }
  }

  @AfterEach
  void stop() {
    source.close();
  }

  /** prod_0000 … prod_2119, as the source's seed documents them. */
  private static Set<String> seedKeys() {
    return IntStream.range(0, PRODUCTS).mapToObj(i -> String.format("prod_%04d", i))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void everySeededProductIsReadOnceWhileProductsAreInsertedBeforeThem() {
    onPageRequests(3);
    ReadSnapshotPagesFn fn = fn(source.baseUrl());
    try {
      List<KeyRange> ranges = initialSplits(fn);
      reading.set(true);
      Reads reads = readAll(fn, ranges, 0.5, 4);
      Set<String> read = new TreeSet<>(reads.keys);
      Set<String> missed = new TreeSet<>(seedKeys());
      missed.removeAll(read);
      assertEquals(Set.of(), missed, "seeded products not read");
      assertNoDuplicates(reads.keys);
      read.removeAll(seedKeys());
      read.removeAll(inserted);
      assertEquals(Set.of(), read, "read keys that never existed");
      assertTrue(reads.restrictions > ranges.size(), "runner splits and checkpoints happened: " + reads.restrictions);
      assertTrue(inserted.size() > 500, "inserts happened between page requests: " + inserted.size());
    } finally {
      fn.teardown();
    }
  }

  /**
   * The ranges as one group, read side by side in lanes while products are inserted before them,
   * split by the runner after every {@code every}-th claim at {@code fraction} (0: a checkpoint,
   * granted at once), the residuals read in turn the same way.
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "split after every {0} claims at {1}")
  @org.junit.jupiter.params.provider.CsvSource({"3, 0.5", "2, 0.99", "5, 0", "1, 0.3", "7, 0.01", "4, 0.9"})
  void aGroupSplitByTheRunnerMidReadLosesAndRepeatsNothing(int every, double fraction) {
    AtomicInteger next = new AtomicInteger(); // lanes request pages side by side
    source.setRequestListener((method, path, query) -> {
      // Inserts stop at the cap below, so that a read that would not end does, and fails.
      if (path.equals("/tables/products/records") && reading.get() && next.get() < MAX_PAGE_REQUESTS) {
        String key = String.format("prod_0000_%06d", next.getAndIncrement());
        source.upsert("products", Map.of("product_id", key, "name", "new", "price", 1.0, "category", "books"));
      }
    });
    ReadSnapshotPagesFn fn = fn(source.baseUrl());
    try {
      List<KeyRange> ranges = initialSplits(fn);
      reading.set(true);
      if (fraction == 0) {
        fn.checkpointingAfter(Duration.ZERO);
      }
      SnapshotRanges element = new SnapshotRanges(READ, ranges);
      Collect<List<GenericRecord>> pages = new Collect<>();
      AtomicInteger claims = new AtomicInteger();
      Deque<LaneSet<KeyRange>> work = new ArrayDeque<>(List.of(fn.initialRestriction(element)));
      int restrictions = 0;
      while (!work.isEmpty()) {
        assertTrue(++restrictions < 5_000, "residuals without end");
        SplittingTracker<LaneSet<KeyRange>, LaneSet.Claim<PageKeys>> tracker =
            new SplittingTracker<>(fn.newTracker(work.poll()), n -> n % every == 0, fraction, claims);
        boolean resume = fn.process(element, tracker, pages).shouldResume();
        // A row lands per page request: readers that walked to their positions instead of
        // searching fed each other's walks without end (at most 16,593 in 600 runs that search).
        assertTrue(next.get() < MAX_PAGE_REQUESTS, "page requests without end: " + next.get());
        org.apache.beam.sdk.transforms.splittabledofn.SplitResult<LaneSet<KeyRange>> checkpoint =
            resume ? tracker.trySplit(0) : null;
        tracker.checkDone();
        work.addAll(tracker.residuals);
        if (checkpoint != null) {
          work.add(checkpoint.getResidual());
        }
      }
      List<String> keys = pages.items.stream().flatMap(List::stream).map(r -> r.get("product_id").toString()).toList();
      Set<String> missed = new TreeSet<>(seedKeys());
      missed.removeAll(keys);
      assertEquals(Set.of(), missed, "seeded products not read");
      assertNoDuplicates(keys);
      assertTrue(restrictions > 2, "splits happened: " + restrictions);
    } finally {
      fn.teardown();
    }
  }

  @Test
  void initialRangesPartitionTheKeysAndBoundaryPagesGiveEachRowToOneRange() {
    onPageRequests(0);
    ReadSnapshotPagesFn fn = fn(source.baseUrl());
    try {
      List<KeyRange> ranges = initialSplits(fn);
      reading.set(true);
      // 106 pages, at least 16 per split: 6 ranges, cut at the first keys of pages 1 + i * 106 / 6.
      List<String> starts = List.of("", "prod_0340", "prod_0700", "prod_1060", "prod_1400", "prod_1760");
      assertEquals(starts, ranges.stream().map(r -> text(r.keys().getStartKey())).toList(), "range starts");
      assertEquals(ByteKey.EMPTY, ranges.get(ranges.size() - 1).keys().getEndKey(), "the last range is open");
      assertEquals(List.of(1L, 18L, 36L, 54L, 71L, 89L), ranges.stream().map(KeyRange::fromPage).toList(), "their pages");
      List<String> all = new ArrayList<>();
      for (int i = 0; i < ranges.size(); i++) {
        // Each reader also reads the page where the next range starts: it keeps only its own rows.
        List<String> keys = readAll(fn, List.of(ranges.get(i)), 0, Integer.MAX_VALUE).keys;
        String first = starts.get(i).isEmpty() ? "prod_0000" : starts.get(i);
        assertEquals(first, keys.get(0), "range " + i + " starts at its first key");
        String next = i + 1 < starts.size() ? starts.get(i + 1) : null;
        assertTrue(next == null || keys.get(keys.size() - 1).compareTo(next) < 0, "range " + i + " ends before " + next);
        all.addAll(keys);
      }
      assertEquals(new ArrayList<>(seedKeys()), all, "every row once, in key order");
      // Pages 1-18, then per later range its page (no probe: it was cut at that page's first key)
      // and the pages after it up to the next range's page: 18 + (1 + 18) + (1 + 18) + (1 + 17) +
      // (1 + 18) + (1 + 17).
      assertEquals(111, pageRequests.get(), "page requests of the six reads");
    } finally {
      fn.teardown();
    }
  }

  @Test
  void rowsMovedOntoTheNextPageAreReadTwiceButOutputOnce() {
    onPageRequests(5);
    ReadSnapshotPagesFn fn = fn(source.baseUrl());
    try {
      reading.set(true);
      List<String> keys = readAll(fn, List.of(ALL), 0, Integer.MAX_VALUE).keys;
      // Request k sees 2120 + 5k rows, so page k + 1 repeats the last 5 rows of page k, and page
      // k is the last once 20k >= 2120 + 5k: 142 requests, 705 rows read twice. Only the first 5
      // inserts sort after the reader's position (on page 1, after prod_0000).
      assertEquals(142, pageRequests.get(), "page requests");
      List<String> expected = new ArrayList<>(seedKeys());
      IntStream.range(0, 5).forEach(i -> expected.add(1 + i, String.format("prod_0000_%05d", i)));
      assertEquals(expected, keys, "every row once, in key order");
    } finally {
      fn.teardown();
    }
  }

  @Test
  void keysAreOrderedAsTheSourceSortsThem() {
    // The source sorts by String.compareTo, UTF-16 units: a surrogate pair (U+1F600 as D83D DE00)
    // sorts before U+FF21, the reverse of code point (UTF-8 byte) order.
    for (String key : List.of("prod_\uFF21", "prod_\uD83D\uDE00")) {
      source.upsert("products", Map.of("product_id", key, "name", "new", "price", 1.0, "category", "books"));
    }
    ReadSnapshotPagesFn fn = fn(source.baseUrl());
    try {
      List<String> expected = new ArrayList<>(seedKeys());
      expected.addAll(List.of("prod_\uD83D\uDE00", "prod_\uFF21"));
      assertEquals(expected, readAll(fn, List.of(ALL), 0, Integer.MAX_VALUE).keys, "every row once, in key order");
    } finally {
      fn.teardown();
    }
  }

  @Test
  void productsAreInsertOnlySoNoRowLeavesItsPlace() {
    // The read's proof assumes it (source-api.md: POST inserts into products; DELETE is orders only).
    Map<String, Object> existing = Map.of("product_id", "prod_0007", "name", "renamed", "price", 1.0, "category", "books");
    assertEquals(409, assertThrows(ApiError.class, () -> source.upsert("products", existing)).status());
    assertEquals(400, assertThrows(ApiError.class, () -> source.delete("products", "prod_0007")).status());
  }

  @Test
  void aPageOutOfKeyOrderFailsTheReadWithWhatAndWhy() throws IOException {
    HttpServer server = serving("{\"records\": [{\"product_id\": \"prod_0002\"}, {\"product_id\": \"prod_0001\"}],"
        + " \"next_page\": null}");
    ReadSnapshotPagesFn fn = fn(URI.create("http://127.0.0.1:" + server.getAddress().getPort()));
    try {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> readAll(fn, List.of(ALL), 0, Integer.MAX_VALUE));
      assertEquals("The snapshot of 'products' cannot be proven complete: page 1 lists product_id"
          + " 'prod_0001' after 'prod_0002'. A snapshot read needs every page sorted by product_id"
          + " (Java String order) and rows only inserted, as the source API documents; the run stops"
          + " rather than take rows it did not see as deleted.", e.getMessage());
    } finally {
      fn.teardown();
      server.stop(0);
    }
  }

  /**
   * The contract makes a primary key a non-null string, so an empty one is a key like any other:
   * it sorts first, and its range's reader reads it and every key after it. As a claim it would be
   * Beam's "end of range" key, and the range would end there, unread.
   */
  @Test
  void aProductWhoseKeyIsEmptyIsReadWithTheRowsAfterIt() throws IOException {
    HttpServer server = serving(page(List.of("", "prod_0001", "prod_0002")));
    ReadSnapshotPagesFn fn = fn(URI.create("http://127.0.0.1:" + server.getAddress().getPort()));
    try {
      assertEquals(List.of("", "prod_0001", "prod_0002"), readAll(fn, List.of(ALL), 0, Integer.MAX_VALUE).keys,
          "every row once, in key order");
      // Split from its first claim on: the residual starts right after the empty key.
      assertEquals(List.of("", "prod_0001", "prod_0002"), readAll(fn, List.of(ALL), 0, 1).keys,
          "every row once, across a checkpoint");
      // As a run reads it, its ranges side by side under one tracker.
      Collect<List<GenericRecord>> whole = new Collect<>();
      fn.readWhole(READ, whole);
      assertEquals(List.of("", "prod_0001", "prod_0002"),
          whole.items.stream().flatMap(List::stream).map(r -> r.get("product_id").toString()).toList(), "a run's read");
    } finally {
      fn.teardown();
      server.stop(0);
    }
  }

  @Test
  void aRecordThatBreaksTheSchemaFailsNamingItsRequest() throws IOException {
    HttpServer server = serving("{\"records\": [{\"product_id\": \"prod_0001\", \"name\": \"n\", \"price\": \"cheap\","
        + " \"category\": \"books\"}], \"next_page\": null}");
    ReadSnapshotPagesFn fn = fn(URI.create("http://127.0.0.1:" + server.getAddress().getPort()));
    try {
      SourceException e = assertThrows(SourceException.class,
          () -> readAll(fn, List.of(ALL), 0, Integer.MAX_VALUE));
      assertEquals("GET /tables/products/records?page=1: a record of table products does not fit the"
          + " source's schema: column price should be a number but was \"cheap\"", e.getMessage());
    } finally {
      fn.teardown();
      server.stop(0);
    }
  }

  /**
   * Records with a field the source's schema does not declare (a server's extra): the read asks
   * for the schema once, then leaves the field out of every row, as it always did.
   */
  @Test
  void aFieldTheSchemaDoesNotDeclareIsLeftOutAfterOneLookAtTheSchema() throws IOException {
    AtomicInteger schemaCalls = new AtomicInteger();
    HttpServer server = serving(withNote(page(List.of("prod_0001", "prod_0002", "prod_0003"))),
        "{\"schema\": " + PRODUCTS_SCHEMA + "}", schemaCalls);
    ReadSnapshotPagesFn fn = fn(URI.create("http://127.0.0.1:" + server.getAddress().getPort()));
    try {
      Collect<List<GenericRecord>> rows = new Collect<>();
      fn.readWhole(READ, rows);
      List<GenericRecord> read = rows.items.stream().flatMap(List::stream).toList();
      assertEquals(List.of("prod_0001", "prod_0002", "prod_0003"),
          read.stream().map(r -> r.get("product_id").toString()).toList(), "every row, the field left out");
      assertEquals(null, read.get(0).getSchema().getField("note"));
      assertEquals(1, schemaCalls.get(), "the schema asked once for the field, not per record");
    } finally {
      fn.teardown();
      server.stop(0);
    }
  }

  /**
   * A column the source added after the run was planned (its schema lists it now): the read fails
   * naming it, rather than drop its values. With one call in flight allowed, held by the page
   * being read, the schema is asked all the same: the call takes the page's place, as waiting for
   * a place of its own would wait for ever.
   */
  @Test
  void aColumnTheSourceAddedFailsTheReadEvenWithOneCallInFlight() throws IOException {
    AtomicInteger schemaCalls = new AtomicInteger();
    HttpServer server = serving(withNote(page(List.of("prod_0001", "prod_0002"))), "{\"schema\": "
        + PRODUCTS_SCHEMA.replace("]", ", {\"name\": \"note\", \"type\": \"string\", \"nullable\": true}]") + "}",
        schemaCalls);
    URI baseUrl = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    ReadSnapshotPagesFn fn = new ReadSnapshotPagesFn(new ReadContext(
        new SourceConfig(baseUrl, "u", Password.inline("p"), FAST, 1), products, new RunStamp("run", 0),
        "main.example.products"));
    fn.setup();
    try {
      SourceException e = assertTimeoutPreemptively(Duration.ofMinutes(1),
          () -> assertThrows(SourceException.class, () -> fn.readWhole(READ, new Collect<>())), "no deadlock");
      assertEquals("GET /tables/products/records?page=1: the source added column 'note' to table products after"
          + " this run was planned: this run stops rather than drop the new values, and commits none of the table's"
          + " records that carry them; run again (restart a continuous run): the next run adds the column to the"
          + " table and reads these records again, with their values", e.getMessage());
      assertEquals(false, e.isTransient());
      assertEquals(1, schemaCalls.get());
    } finally {
      fn.teardown();
      server.stop(0);
    }
  }

  /** The products' field descriptors, as the source's schema route lists them. */
  private static final String PRODUCTS_SCHEMA = "[{\"name\": \"product_id\", \"type\": \"string\", \"nullable\": false},"
      + " {\"name\": \"name\", \"type\": \"string\", \"nullable\": true},"
      + " {\"name\": \"price\", \"type\": \"double\", \"nullable\": true},"
      + " {\"name\": \"category\", \"type\": \"string\", \"nullable\": true}]";

  /** A page whose every record has a field {@code note} too. */
  private static String withNote(String page) {
    return page.replace("\"category\": \"books\"}", "\"category\": \"books\", \"note\": \"x\"}");
  }

  /**
   * A page of 1,500 products cut after 1,200 records: the first 1,000 were claimed and output, so
   * when the client delivers the page again (with a product inserted among them) the reader skips
   * them, keeps checking the order from the page's first record, and outputs the other 500.
   */
  @Test
  void aPageCutAfterAClaimedChunkIsReadAgainSkippingTheClaimedKeys() {
    List<String> seeded = IntStream.range(0, 1500).mapToObj(i -> String.format("prod_%04d", i)).toList();
    List<String> again = new ArrayList<>(seeded);
    again.add(1, "prod_0000_new"); // inserted after the cut: before the claimed keys, so not read
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> {
      if (n == 1) {
        writeCut(out, seeded, 1200);
      } else {
        out.write(RawHttpServer.json(page(again)));
      }
    })) {
      ReadSnapshotPagesFn fn = fn(server.baseUrl());
      try {
        Collect<List<GenericRecord>> outputs = new Collect<>();
        PageKeysTracker tracker = new PageKeysTracker(ALL);
        fn.readRange(READ, tracker, outputs, () -> false);
        tracker.checkDone();
        assertEquals(List.of(1000, 500), outputs.items.stream().map(List::size).toList(), "outputs");
        List<String> keys = outputs.items.stream().flatMap(List::stream)
            .map(r -> r.get("product_id").toString()).toList();
        assertEquals(seeded, keys, "every product once, in key order");
        assertEquals(2, server.requests().size(), "the page, then the page again: " + server.requests());
      } finally {
        fn.teardown();
      }
    }
  }

  /**
   * A probe needs only a page's first key, and a range's reader no key past the range's end: the
   * rest of such a page is never read (here it would fail the read), nor downloaded.
   */
  @Test
  void probesAndAReaderPastItsEndReadNoFurtherOnThePage() {
    List<String> page1 = IntStream.range(0, 20).mapToObj(i -> String.format("prod_%04d", i)).toList();
    String unreadable = "{\"product_id\": 5}";
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> out.write(RawHttpServer.json(
        line.contains("page=1 ")
            ? page(page1, 2).replace("{\"product_id\": \"prod_0011\"", unreadable + ", {\"product_id\": \"prod_0011\"")
            : page(List.of("prod_0020", "prod_0021"), null).replace("}, {", "}, " + unreadable + ", {"))))) {
      ReadSnapshotPagesFn fn = fn(server.baseUrl());
      try {
        // As a runner's split at an interpolated key: its first page is searched for.
        KeyRange split = new KeyRange(ByteKeyRange.of(key("prod_0005"), key("prod_0010")), 1, true);
        List<String> keys = List.of("prod_0005", "prod_0006", "prod_0007", "prod_0008", "prod_0009");
        assertEquals(keys, readAll(fn, List.of(split), 0, Integer.MAX_VALUE).keys, "the range's keys");
        assertEquals(List.of("GET /tables/products/records?page=2 HTTP/1.1", "GET /tables/products/records?page=1 HTTP/1.1"),
            server.requests(), "a probe of page 2, then page 1");
        // As a range cut at its page's first key, or resumed after its last claim: on its page.
        KeyRange onItsPage = new KeyRange(ByteKeyRange.of(key("prod_0005"), key("prod_0010")), 1);
        assertEquals(keys, readAll(fn, List.of(onItsPage), 0, Integer.MAX_VALUE).keys, "the range's keys");
        assertEquals("GET /tables/products/records?page=1 HTTP/1.1", server.requests().get(2), "page 1 only");
        assertEquals(3, server.requests().size(), "no probe: " + server.requests());
      } finally {
        fn.teardown();
      }
    }
  }

  /**
   * A residual that waited while rows were inserted before it starts many pages before its keys:
   * once its page and the next held nothing new, its reader searches for them instead of walking
   * there a call a page.
   */
  @Test
  void aRangeFarPastItsPageSearchesForItsStartInsteadOfWalking() {
    // As if recorded on page 2 when prod_1500 was there, before 1,460 rows were inserted before it.
    KeyRange far = new KeyRange(ByteKeyRange.of(key("prod_1500"), key("prod_1520")), 2);
    assertEquals(products(1500, 1520), readCountingPages(far), "the range's keys");
    // Pages 2 and 3, nothing new; from 3, the last page that starts at or before prod_1500 (row
    // 1,500 at 20 a page: 76) found by probes of page 4; 6, 10, 18, 34, 66 (held), 130, 258, 514;
    // 73 (held), 80, 87, ..., 122; 74, 75, 76 (held), 77, 78, 79: 23 probes. Then pages 76 and
    // 77, whose first key ends the range: 27 requests, where walking from page 2 took 76.
    assertEquals(27, pageRequests.get(), "products page requests");
  }

  /** A search that finds its position on the idle page it started from reads on from the next page. */
  @Test
  void aSearchThatFindsNoLaterPageReadsOnFromTheNext() {
    // prod_1499x sorts between page 75's last key (prod_1499) and page 76's first (prod_1500).
    KeyRange range = new KeyRange(ByteKeyRange.of(key("prod_1499x"), key("prod_1520")), 74);
    assertEquals(products(1500, 1520), readCountingPages(range), "the range's keys");
    // Pages 74 and 75, nothing new; from 75, a probe of page 76 (prod_1500: past the start), so
    // page 75 is the last that starts at or before it; then pages 76 and 77 (prod_1520, the end).
    assertEquals(5, pageRequests.get(), "products page requests");
  }

  /** The keys a reader of {@code range} outputs, its page requests counted in {@link #pageRequests}. */
  private List<String> readCountingPages(KeyRange range) {
    onPageRequests(0);
    ReadSnapshotPagesFn fn = fn(source.baseUrl());
    try {
      reading.set(true);
      return readAll(fn, List.of(range), 0, Integer.MAX_VALUE).keys;
    } finally {
      fn.teardown();
    }
  }

  /** As a range's start, so its last claim: 600 rows inserted before it mid-read, 30 pages' worth. */
  @Test
  void aReaderWhosePositionInsertsMovedManyPagesOnSearchesForIt() {
    AtomicInteger requests = new AtomicInteger();
    source.setRequestListener((method, path, query) -> {
      if (path.equals("/tables/products/records") && requests.incrementAndGet() == 2) {
        for (int i = 0; i < 600; i++) {
          source.upsert("products", Map.of("product_id", String.format("prod_0000_%05d", i), "name", "new", "price", 1.0,
              "category", "books"));
        }
      }
    });
    ReadSnapshotPagesFn fn = fn(source.baseUrl());
    try {
      KeyRange range = new KeyRange(ByteKeyRange.of(key("prod_1000"), key("prod_1100")), 51);
      assertEquals(products(1000, 1100), readAll(fn, List.of(range), 0, Integer.MAX_VALUE).keys, "the range's keys");
      // Page 51 (prod_1000 to prod_1019, claimed); then, 600 rows on, pages 52 and 53 (from
      // prod_0420: nothing new); from 53, the last page that starts at or before prod_1019 (row
      // 1,619: 81) found by probes of page 54; 56, 60, 68 (held), 84, 116, 180, 308, 564; 69, 71,
      // 73, 75, 76, 78, 80 (held), 82; 81 (held): 18 probes. Then pages 81 (claimed already) to
      // 86, whose first key ends the range: 27 requests, where walking took 36.
      assertEquals(27, requests.get(), "products page requests");
    } finally {
      fn.teardown();
    }
  }

  /** prod_{from} up to prod_{to}, excluded. */
  private static List<String> products(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> String.format("prod_%04d", i)).toList();
  }

  /** A products page of {@code keys}, the last page. */
  private static String page(List<String> keys) {
    return page(keys, null);
  }

  /** A products page of {@code keys}, then page {@code next} (null: none). */
  private static String page(List<String> keys, Integer next) {
    return keys.stream()
        .map(k -> "{\"product_id\": \"" + k + "\", \"name\": \"n\", \"price\": 1.5, \"category\": \"books\"}")
        .collect(Collectors.joining(", ", "{\"records\": [", "], \"next_page\": " + next + "}"));
  }

  /** The page of {@code keys}, its length announced whole, but the connection closed after {@code records}. */
  private static void writeCut(OutputStream out, List<String> keys, int records) throws IOException {
    byte[] whole = RawHttpServer.json(page(keys));
    int cut = new String(whole, StandardCharsets.UTF_8).indexOf("\"" + keys.get(records) + "\"");
    out.write(whole, 0, cut);
  }

  /** A server answering every products page request with {@code body}; the caller stops it. */
  private static HttpServer serving(String body) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/tables/products/records", exchange -> answer(exchange, body));
    server.start();
    return server;
  }

  /** As {@link #serving(String)}, and the products' schema route with {@code schema}, its calls counted. */
  private static HttpServer serving(String body, String schema, AtomicInteger schemaCalls) throws IOException {
    HttpServer server = serving(body);
    server.createContext("/tables/products/schema", exchange -> {
      schemaCalls.incrementAndGet();
      answer(exchange, schema);
    });
    return server;
  }

  private static void answer(HttpExchange exchange, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Test
  void aRangeWhosePageNoLongerStartsBeforeItFailsTheRead() {
    ReadSnapshotPagesFn fn = fn(source.baseUrl());
    try {
      // Page 10 starts at prod_0180: as if rows before prod_0100 had been removed since it was read.
      KeyRange range = new KeyRange(ByteKeyRange.of(key("prod_0100"), ByteKey.EMPTY), 10);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> readAll(fn, List.of(range), 0, Integer.MAX_VALUE));
      assertEquals("The snapshot of 'products' cannot be proven complete: page 10 no longer starts at"
          + " or before product_id 'prod_0100' as it did when read: rows left the table or moved back."
          + " A snapshot read needs every page sorted by product_id (Java String order) and rows only"
          + " inserted, as the source API documents; the run stops rather than take rows it did not"
          + " see as deleted.", e.getMessage());
    } finally {
      fn.teardown();
    }
  }

  /** Counts products page requests while reading, and inserts {@code perRequest} first-sorting products before each. */
  private void onPageRequests(int perRequest) {
    source.setRequestListener((method, path, query) -> {
      if (!path.equals("/tables/products/records") || !reading.get()) {
        return;
      }
      pageRequests.incrementAndGet();
      for (int i = 0; i < perRequest; i++) {
        String key = String.format("prod_0000_%05d", inserted.size());
        source.upsert("products", Map.of("product_id", key, "name", "new", "price", 1.0, "category", "books"));
        inserted.add(key);
      }
    });
  }

  private ReadSnapshotPagesFn fn(URI baseUrl) {
    ReadSnapshotPagesFn fn = new ReadSnapshotPagesFn(
        new ReadContext(config(baseUrl), products, new RunStamp("run", 0), "main.example.products"));
    fn.setup();
    return fn;
  }

  private static SourceConfig config(URI baseUrl) {
    return new SourceConfig(baseUrl, "u", Password.inline("p"), FAST);
  }

  private static List<KeyRange> initialSplits(ReadSnapshotPagesFn fn) {
    return fn.ranges(READ, 8, 16);
  }

  /** The keys output, in order, and how many restrictions (ranges, then residuals) were read. */
  private record Reads(List<String> keys, int restrictions) {}

  /**
   * Reads each range, then each residual, as a runner would: every tracker is split once, after
   * {@code claimsBeforeSplit} claims (pages), at {@code fraction} of what remains (0: a checkpoint);
   * residuals are checkpointed in turn.
   */
  private static Reads readAll(ReadSnapshotPagesFn fn, List<KeyRange> ranges, double fraction, int claimsBeforeSplit) {
    Deque<SplittingTracker<KeyRange, PageKeys>> work = new ArrayDeque<>();
    ranges.forEach(r -> work.add(new SplittingTracker<>(new PageKeysTracker(r), claimsBeforeSplit, fraction)));
    Collect<List<GenericRecord>> pages = new Collect<>();
    int processed = 0;
    while (!work.isEmpty()) {
      SplittingTracker<KeyRange, PageKeys> tracker = work.poll();
      fn.readRange(READ, tracker, pages, () -> false);
      tracker.checkDone();
      processed++;
      if (tracker.residual() != null) {
        work.add(new SplittingTracker<>(new PageKeysTracker(tracker.residual()), claimsBeforeSplit, 0));
      }
    }
    List<String> keys = pages.items.stream().flatMap(List::stream)
        .map(r -> r.get("product_id").toString()).toList();
    return new Reads(keys, processed);
  }

  private static void assertNoDuplicates(List<String> keys) {
    Set<String> seen = new HashSet<>();
    List<String> twice = keys.stream().filter(k -> !seen.add(k)).toList();
    assertEquals(List.of(), twice, "keys output twice");
  }

  private static ByteKey key(String text) {
    return ByteKey.copyFrom(text.getBytes(StandardCharsets.UTF_16BE));
  }

  private static String text(ByteKey key) {
    return new String(key.getBytes(), StandardCharsets.UTF_16BE);
  }

  private static final class Collect<T> implements OutputReceiver<T> {
    final List<T> items = new ArrayList<>();

    @Override
    public void output(T item) {
      items.add(item);
    }

    @Override
    public void outputWithTimestamp(T item, Instant timestamp) {
      items.add(item);
    }
  }
}
