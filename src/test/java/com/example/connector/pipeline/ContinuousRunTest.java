package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.continuous.StopSignal;
import com.example.source.ExampleSource;
import com.example.testing.TestClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A continuous run ({@code --streaming=true}) on the DirectRunner against the simulated source
 * with transient faults: every kind of table (append, SCD type 1 with tombstones, a windowed feed,
 * a snapshot) catches up, outlasts an outage of the source, follows writes made while it runs
 * (updates, deletes, inserts), and a stop commits what was read and exits 0; a second run resumes
 * from the cursors in the tables.
 * Each table is compared with the source's own rows, read over HTTP.
 */
class ContinuousRunTest {
  private static final String[] TABLES = {
    "\"source_table\": \"users\"",
    "\"source_table\": \"orders\", \"table_configuration\": {\"max_records_per_batch\": \"7\"}",
    "\"source_table\": \"events\"",
    "\"source_table\": \"metrics\", \"table_configuration\": {\"window_seconds\": \"3600\"}",
    "\"source_table\": \"products\"",
  };
  private static final Duration CATCH_UP = Duration.ofSeconds(90);

  // Not deleted: a cancelled DirectRunner may still be ending a bundle in it as the test ends.
  @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.NEVER) Path dir;

  @AfterEach
  void clearStop() {
    StopSignal.reset();
  }

  @Test
  void tablesFollowTheSourceAndAStopCommitsWhatWasRead() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0.03).pageSize("orders", 10).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("continuous.json", TABLES);

      CompletableFuture<IngestMain.Outcome> run = start(h, spec);
      awaitEqual(h, source, run);
      // An outage: every call fails, past its retries; the polls fail and are tried again.
      long before = source.requestCount();
      source.setErrorRate(1.0);
      awaitRequests(source, before + 60, run, h);
      source.setErrorRate(0.03);
      source.upsert("users", Map.of("user_id", "user_0003", "email", "changed@example.com"));
      source.upsert("users", Map.of("user_id", "user_7000", "email", "new@example.com"));
      source.upsert("orders", Map.of("order_id", "order_0005", "status", "delivered", "amount", 1.5));
      source.delete("orders", "order_0008");
      source.upsert("events", Map.of("event_id", "00000000-0000-4000-8000-00000000c001", "event_type", "click"));
      source.upsert("metrics", Map.of("metric_id", "metric_0002", "name", "metric.cpu", "host", "host-9"));
      source.upsert("products", Map.of("product_id", "prod_7000", "name", "new", "price", 2.5, "category", "books"));
      awaitEqual(h, source, run);
      IngestMain.Outcome first = stop(run);
      assertEquals(0, first.exitCode(), h.lastOut + h.lastErr);
      assertTrue(h.lastOut.contains("Stopped after a final commit"), h.lastOut);

      // Written while nothing runs: the next run reads on from the cursors the tables hold.
      source.upsert("users", Map.of("user_id", "user_0003", "email", "again@example.com"));
      source.delete("orders", "order_0009");
      source.upsert("events", Map.of("event_id", "00000000-0000-4000-8000-00000000c002", "event_type", "view"));
      CompletableFuture<IngestMain.Outcome> second = start(h, spec);
      awaitEqual(h, source, second);
      assertEquals(0, stop(second).exitCode(), h.lastOut + h.lastErr);
    }
  }

  /**
   * An outage that begins inside a poll, after it claimed an empty window: the poll of {@code
   * metrics} asks for the next record's cursor ({@code since} without {@code until}) once a window
   * came back empty, and the outage starts at exactly that call. The poll holds no row, so it is
   * tried again (a CI run saw the whole run end here: the poll had claimed the empty window).
   */
  @Test
  void anOutageBeginningAfterAPollClaimedAnEmptyWindowIsOutlasted() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("continuous.json", TABLES);
      CompletableFuture<IngestMain.Outcome> run = start(h, spec);
      awaitEqual(h, source, run);

      CountDownLatch outage = new CountDownLatch(1);
      source.setRequestListener((method, path, query) -> {
        if (outage.getCount() > 0 && path.equals("/tables/metrics/records") && query != null
            && query.contains("since=") && !query.contains("until=")) {
          source.setErrorRate(1.0); // before this request's fault is decided: it fails too
          outage.countDown();
        }
      });
      assertTrue(outage.await(CATCH_UP.toSeconds(), TimeUnit.SECONDS), "no poll of metrics asked for the next cursor");
      source.setRequestListener(null);
      long before = source.requestCount();
      awaitRequests(source, before + 60, run, h);
      source.setErrorRate(0);
      source.upsert("metrics", Map.of("metric_id", "metric_0002", "name", "metric.cpu", "host", "host-9"));
      awaitEqual(h, source, run);
      assertEquals(0, stop(run).exitCode(), h.lastOut + h.lastErr);
    }
  }

  /**
   * A column the source adds while a continuous run follows the table: the run ends (exit 1) naming
   * the table and the column, and commits none of the records that carry it; the next run adds the
   * column and reads them, with their values. (The run used to go on, leaving the new column's
   * values out of every record it read, for as long as it ran.)
   */
  @Test
  void aColumnTheSourceAddsWhileARunFollowsEndsTheRunAndTheNextReadsItsValues() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("users.json", "\"source_table\": \"users\"");
      CompletableFuture<IngestMain.Outcome> run = start(h, spec);
      long deadline = System.nanoTime() + CATCH_UP.toNanos();
      while ((h.table("users") == null || h.table("users").currentSnapshot() == null) && System.nanoTime() < deadline) {
        assertTrue(!run.isDone(), () -> "the run ended: " + run.join().exitCode() + "\n" + h.lastOut + h.lastErr);
        Thread.sleep(250); // polls the table for its first commit: the run is planned, and follows
      }
      source.addColumn("users", "tier", "string");
      source.upsert("users", Map.of("user_id", "user_0005", "tier", "gold"));

      IngestMain.Outcome outcome = run.get(CATCH_UP.toSeconds(), TimeUnit.SECONDS);
      assertEquals(1, outcome.exitCode(), h.lastOut + h.lastErr);
      assertTrue(h.lastOut.contains("the source added column 'tier' to table users after this run was planned"),
          h.lastOut);
      assertTrue(h.rows("users").stream().noneMatch(r -> r.getSchema().getField("tier") != null), "not added");

      clock.advance(Duration.ofSeconds(2)); // past the second the next run caps at
      h.runOk(spec);
      Map<String, String> tiers = new TreeMap<>();
      h.rows("users").forEach(r -> tiers.put(r.get("user_id").toString(), String.valueOf(r.get("tier"))));
      assertEquals(37, tiers.size(), "every user once");
      assertEquals("gold", tiers.get("user_0005"), "the value written with the new column, read by the next run");
    }
  }

  private static void awaitRequests(ExampleSource source, long count, CompletableFuture<IngestMain.Outcome> run,
      IngestHarness h) throws InterruptedException {
    long deadline = System.nanoTime() + CATCH_UP.toNanos();
    while (source.requestCount() < count && System.nanoTime() < deadline) {
      assertTrue(!run.isDone(), () -> "the run ended: " + run.join().exitCode() + "\n" + h.lastOut + h.lastErr);
      Thread.sleep(50); // polls the source's request count
    }
  }

  /**
   * The source's clock two minutes ahead of this machine's: the progress line's lag is measured on
   * the source's clock, as the cursors are. It read "lag -110.7 s" (this machine's clock less a
   * cursor of the source's).
   */
  @Test
  void theProgressLinesLagIsMeasuredOnTheSourcesClock() throws Exception {
    TestClock clock = TestClock.system();
    clock.advance(Duration.ofMinutes(2));
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("users.json", "\"source_table\": \"users\"");
      CountDownLatch lagShown = new CountDownLatch(1);
      ByteArrayOutputStream out = new ByteArrayOutputStream() {
        @Override
        public synchronized void write(byte[] b, int off, int len) {
          super.write(b, off, len);
          if (toString(StandardCharsets.UTF_8).contains("users: lag ")) {
            lagShown.countDown();
          }
        }
      };
      StopSignal.reset();
      CompletableFuture<IngestMain.Outcome> run = CompletableFuture.supplyAsync(() -> IngestMain.run(new String[] {
          "--spec=" + spec, "--runner=DirectRunner", "--outputRoot=" + h.output, "--streaming=true",
          "--pollIntervalSeconds=1", "--commitIntervalSeconds=1", "--progressIntervalSeconds=1"},
          new PrintStream(out, true), new PrintStream(new ByteArrayOutputStream(), true)));
      assertTrue(lagShown.await(CATCH_UP.toSeconds(), TimeUnit.SECONDS), () -> out.toString());
      assertEquals(0, stop(run).exitCode(), () -> out.toString());

      Matcher lag = Pattern.compile("users: lag (-?[0-9.]+) s").matcher(out.toString());
      assertTrue(lag.find(), out.toString());
      double seconds = Double.parseDouble(lag.group(1));
      assertTrue(seconds >= 0 && seconds < 60, "a lag of seconds, not the clocks' two minutes: " + lag.group());
    }
  }

  /**
   * The launching thread interrupted (an embedding application, a test's timeout): the run ends,
   * says so, and its DirectRunner pipeline is cancelled rather than left reading and committing in
   * this JVM after the run has returned.
   */
  @Test
  void anInterruptedRunCancelsItsPipeline() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("continuous.json", "\"source_table\": \"users\"");
      Set<Thread> before = IngestHarness.directRunnerWorkers();
      AtomicReference<IngestMain.Outcome> outcome = new AtomicReference<>();
      Thread run = new Thread(() -> outcome.set(h.run(spec, "--streaming=true", "--pollIntervalSeconds=1",
          "--commitIntervalSeconds=1")), "interrupted-continuous-run");
      run.start();
      long deadline = System.nanoTime() + CATCH_UP.toNanos();
      while (h.table("users") == null || h.table("users").currentSnapshot() == null) { // its first commit
        assertTrue(System.nanoTime() < deadline, "no commit");
        Thread.sleep(100);
      }

      run.interrupt();
      run.join(TimeUnit.MINUTES.toMillis(2));

      assertFalse(run.isAlive(), "the interrupted run did not return");
      Set<Thread> started = IngestHarness.directRunnerWorkers();
      started.removeAll(before);
      for (Thread worker : started) {
        worker.join(TimeUnit.MINUTES.toMillis(1));
        assertFalse(worker.isAlive(), "a worker of the interrupted run still runs");
      }
      assertEquals(1, outcome.get().exitCode());
      assertTrue(h.lastOut.contains("error: the continuous pipeline was interrupted and cancelled"), h.lastOut);
    }
  }

  private static CompletableFuture<IngestMain.Outcome> start(IngestHarness h, Path spec) {
    StopSignal.reset();
    return CompletableFuture.supplyAsync(() -> h.run(spec, "--streaming=true", "--pollIntervalSeconds=1",
        "--commitIntervalSeconds=1", "--snapshotIntervalSeconds=1"));
  }

  private static IngestMain.Outcome stop(CompletableFuture<IngestMain.Outcome> run) throws Exception {
    StopSignal.request();
    return run.get(2, TimeUnit.MINUTES);
  }

  /** Rows rendered without metrics' {@code value} struct, which the two renderings spell differently. */
  private static List<String> withoutStructs(List<String> rows) {
    return rows.stream().map(r -> r.replaceAll("value=[^;]*;", "")).toList();
  }

  /** The source's rows, asked again when its injected faults answer instead. */
  private static List<com.fasterxml.jackson.databind.JsonNode> sourceRows(ExampleSource source, String table)
      throws Exception {
    for (int attempt = 1; ; attempt++) {
      try {
        return ScdTablesTest.currentRows(source, table);
      } catch (AssertionError fault) {
        if (attempt == 20) {
          throw fault;
        }
      }
    }
  }

  /** Waits until every table holds the source's rows (polling the tables), then asserts it. */
  private static void awaitEqual(IngestHarness h, ExampleSource source, CompletableFuture<IngestMain.Outcome> run)
      throws Exception {
    Supplier<Map<String, List<List<String>>>> compare = () -> {
      Map<String, List<List<String>>> tables = new LinkedHashMap<>();
      for (String table : List.of("users", "orders", "events", "metrics", "products")) {
        try {
          tables.put(table, List.of(withoutStructs(ScdTablesTest.rendered(sourceRows(source, table))),
              h.table(table) == null ? List.of() : withoutStructs(ScdTablesTest.renderedTable(h.rows(table)))));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
      return tables;
    };
    long deadline = System.nanoTime() + CATCH_UP.toNanos();
    Map<String, List<List<String>>> tables = compare.get();
    while (tables.values().stream().anyMatch(t -> !t.get(0).equals(t.get(1))) && System.nanoTime() < deadline) {
      assertTrue(!run.isDone(), () -> "the run ended: " + run.join().exitCode() + "\n" + h.lastOut + h.lastErr);
      Thread.sleep(250); // polls the tables, which the run commits every second
      tables = compare.get();
    }
    tables.forEach((table, t) -> assertEquals(t.get(0), t.get(1), table + " equals the source, each row once"));
  }
}
