package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import com.example.testing.ChildProcess;
import com.example.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example pipeline end to end over real HTTP, run after run, read back from Parquet. */
class IngestEndToEndTest {
  static final String[] FIVE_TABLES = {
    "\"source_table\": \"orders\", \"table_configuration\": {\"max_records_per_batch\": \"500\"}",
    "\"source_table\": \"products\"",
    "\"source_table\": \"metrics\", \"table_configuration\": {\"max_records_per_batch\": \"500\", \"window_seconds\": \"7200\"}",
    "\"source_table\": \"events\", \"table_configuration\": {\"max_records_per_batch\": \"500\", \"limit\": \"50\"}",
    "\"source_table\": \"users\", \"table_configuration\": {\"max_records_per_batch\": \"500\"}"
  };

  @TempDir Path dir;

  @Test
  void landsEverySeededRowThenReadsOnlyWhatChanged() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("all.json", FIVE_TABLES);
      // The DirectRunner's checks that no DoFn mutates its input or emits what its coder cannot
      // round-trip: off by default for speed (IngestMain), on here.
      String[] checked = {"--enforceImmutability=true", "--enforceEncodability=true"};

      String run1 = h.runOk(spec, checked).plan().runId();
      Map<String, Integer> seeded = Map.of("products", 53, "events", 101, "users", 37, "orders", 103, "metrics", 253);
      seeded.forEach((table, n) -> assertEquals(n, h.rows(table).size(), table));
      seeded.forEach((table, n) -> assertEquals(n, h.changes(table).size(), table + " change feed"));
      seeded.forEach((table, n) -> assertEquals(n, Set.copyOf(h.column(table, key(table), null)).size(), table + " keys"));
      assertTypes(h.rows("metrics").get(0));
      assertTrue(h.lastOut.contains("main.example.metrics"), h.lastOut);

      clock.advance(Duration.ofSeconds(2));
      String run2 = h.runOk(spec, checked).plan().runId();
      assertEquals(List.of(), h.column("users", "user_id", run2));
      assertEquals(List.of(), h.column("events", "event_id", run2));
      assertEquals(List.of(), h.column("orders", "order_id", run2));
      assertEquals(List.of(), h.column("metrics", "metric_id", run2));
      assertEquals(53, h.column("products", "product_id", run2).size(), "a new snapshot read");
      assertEquals(53, h.rows("products").size(), "the table is the latest snapshot");
      assertEquals(53, h.column("products", "product_id", run1).size(), "the feed keeps the first");

      source.upsert("users", Map.of("user_id", "user_0005", "email", "changed@example.com"));
      source.upsert("users", Map.of("user_id", "user_9000", "email", "new@example.com"));
      source.delete("orders", "order_0007");
      source.upsert("events", Map.of("event_id", "00000000-0000-4000-8000-ffffffffffff", "event_type", "click"));
      source.upsert("products", Map.of("product_id", "prod_9999", "name", "new", "price", 1.5, "category", "books"));
      clock.advance(Duration.ofSeconds(2));
      String run3 = h.runOk(spec, checked).plan().runId();

      assertEquals(Set.of("user_0005", "user_9000"), Set.copyOf(h.column("users", "user_id", run3)));
      assertEquals(2, h.column("users", "user_id", run3).size());
      assertEquals(List.of("00000000-0000-4000-8000-ffffffffffff"), h.column("events", "event_id", run3));
      assertEquals(List.of(), h.column("metrics", "metric_id", run3));
      List<GenericRecord> orders = h.changes("orders").stream().filter(r -> run3.equals(r.get("_run_id").toString())).toList();
      assertEquals(1, orders.size());
      assertEquals("order_0007", orders.get(0).get("order_id").toString());
      assertEquals(true, orders.get(0).get("_is_deleted"));
      assertEquals("delete", orders.get(0).get("_operation").toString());
      assertNull(orders.get(0).get("amount"));
      assertEquals(54, h.column("products", "product_id", run3).size());

      // The tables a reader queries: the source's current rows.
      assertEquals(102, h.rows("orders").size());
      assertFalse(h.rows("orders").stream().anyMatch(r -> r.get("order_id").toString().equals("order_0007")));
      assertEquals(38, h.rows("users").size());
      assertEquals(Set.of("changed@example.com"), h.rows("users").stream()
          .filter(r -> r.get("user_id").toString().equals("user_0005"))
          .map(r -> r.get("email").toString()).collect(java.util.stream.Collectors.toSet()));
      assertEquals(102, h.rows("events").size());
      assertEquals(54, h.rows("products").size());
      assertEquals(253, h.rows("metrics").size());

      org.apache.iceberg.Table ordersTable = h.table("orders");
      assertEquals("orders", ordersTable.properties().get("example.source-table"));
      assertEquals(run3, ordersTable.currentSnapshot().summary().get("example.run-id"));
      assertEquals(java.util.Set.of("records", "deleted_records"), h.cursors("orders").keySet());
      assertEquals(run3, h.table("orders__changes").currentSnapshot().summary().get("example.run-id"),
          "the change feed is committed with the table");

      // Append tables and change feeds are committed as appends: a reader following a table's
      // appends (Iceberg's incremental append scan, as streaming engines read) gets every row.
      assertEquals(102, appendedRows(h.table("events")), "events appended");
      assertEquals(103 + 1, appendedRows(h.table("orders__changes")), "orders' change feed appended: the seed, the delete");
      assertEquals("delete", ordersTable.currentSnapshot().operation(), "orders: a delete only (a row delta)");
    }
  }

  /**
   * A run in which the source changed nothing, on the shipped DirectRunner config, ends and adds no
   * data file. The second run is a child JVM with a time limit: such a run once never ended (the
   * DirectRunner went round its timers for ever after the merge's bucket count of two empty
   * inputs), and a run that hangs must fail the test, not stall the build.
   */
  @Test
  void aRunInWhichNothingChangedEndsAndAddsNoDataFile() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("users.json", "\"source_table\": \"users\"");
      String config = "--runnerConfig=" + ProjectFiles.runnerConfig("direct");
      h.runOk(spec, config);
      long first = h.table("users").currentSnapshot().snapshotId();

      ChildProcess.Result again = ChildRun.run(
          List.of("--spec=" + spec, config, "--outputRoot=" + h.output, "--progressIntervalSeconds=0"),
          Map.of(), dir.resolve("again.log"), Duration.ofMinutes(2));

      assertEquals(0, again.exitCode(), again::toString);
      org.apache.iceberg.Snapshot snapshot = h.table("users").currentSnapshot();
      assertNotEquals(first, snapshot.snapshotId(), "the run's cursors are committed");
      assertEquals("0", snapshot.summary().getOrDefault("added-data-files", "0"), snapshot.summary().toString());
      assertEquals("0", snapshot.summary().getOrDefault("added-delete-files", "0"), snapshot.summary().toString());
      assertEquals(37, h.rows("users").size());
    }
  }

  /** The rows of every snapshot's appended files, each snapshot checked to be an append. */
  private static long appendedRows(org.apache.iceberg.Table table) throws Exception {
    long rows = 0;
    for (org.apache.iceberg.Snapshot s : table.snapshots()) {
      assertEquals("append", s.operation(), table.name() + " snapshot " + s.snapshotId());
    }
    try (var tasks = table.newIncrementalAppendScan().toSnapshot(table.currentSnapshot().snapshotId()).planFiles()) {
      for (org.apache.iceberg.FileScanTask task : tasks) {
        rows += task.file().recordCount();
      }
    }
    return rows;
  }

  @Test
  void aFailingPipelineExits1AndLeavesEveryCommittedFileAsItWas() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("users.json", "\"source_table\": \"users\"", "\"source_table\": \"orders\"");
      h.runOk(spec);
      Map<Path, byte[]> committed = files(h.output);
      clock.advance(Duration.ofSeconds(2)); // a new cap: the next run has a range to read
      // Validation passes (it reads no records); then every records call fails.
      source.setRequestListener((method, path, query) -> {
        if (path.endsWith("/records")) {
          throw new IllegalStateException("records are down");
        }
      });
      IngestMain.Outcome outcome = h.run(spec, "--retryMaxAttempts=2");
      assertEquals(1, outcome.exitCode(), h.lastOut + h.lastErr);
      assertTrue(h.lastErr.contains("the pipeline failed") && h.lastErr.contains("nothing was committed"), h.lastErr);
      Map<Path, byte[]> after = files(h.output);
      assertEquals(committed.keySet(), after.keySet());
      committed.forEach((file, bytes) -> assertArrayEquals(bytes, after.get(file), file.toString()));
    }
  }

  /**
   * A key with a lone surrogate, as a server that cut a string inside an emoji sends it (escaped,
   * "user_\\ud83d", as JavaScript's JSON.stringify and the simulated source's Jackson write it),
   * fails the run naming the table, the column and the value, and nothing is committed. Parquet's
   * UTF-8 stored it as "user_?", so the key read back never matched the source's: each run that
   * read an update of that user added another row of it (two after the second).
   */
  @Test
  void aKeyWithALoneSurrogateFailsTheRunNamingItAndCommitsNothing() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("users.json", "\"source_table\": \"users\"");
      h.runOk(spec);
      long committed = h.table("users").currentSnapshot().snapshotId();
      source.upsert("users", Map.of("user_id", "user_\uD83D", "email", "a@example.com"));
      clock.advance(Duration.ofSeconds(2));

      IngestMain.Outcome outcome = h.run(spec);

      assertEquals(1, outcome.exitCode(), h.lastOut + h.lastErr);
      assertTrue(h.lastErr.contains("a record of table users does not fit the source's schema: column user_id should be"
          + " a string of Unicode characters (a UTF-8 file cannot hold the unpaired surrogate \\uD83D) but was"
          + " \"user_\\uD83D\""), h.lastErr);
      assertTrue(h.lastErr.contains("nothing was committed"), h.lastErr);
      assertEquals(committed, h.table("users").currentSnapshot().snapshotId());
      assertEquals(37, h.rows("users").size());
    }
  }

  private static Map<Path, byte[]> files(Path root) throws Exception {
    Map<Path, byte[]> files = new HashMap<>();
    try (java.util.stream.Stream<Path> walk = Files.walk(root)) {
      for (Path file : walk.filter(Files::isRegularFile).toList()) {
        files.put(file, Files.readAllBytes(file));
      }
    }
    return files;
  }

  static String key(String table) {
    return Map.of("products", "product_id", "events", "event_id", "users", "user_id",
        "orders", "order_id", "metrics", "metric_id").get(table);
  }

  private static void assertTypes(GenericRecord metric) {
    Schema schema = metric.getSchema();
    Schema updated = schema.getField("updated_at").schema().getTypes().get(1);
    assertEquals(LogicalTypes.timestampMicros(), updated.getLogicalType());
    Schema value = schema.getField("value").schema().getTypes().get(1);
    assertEquals(Schema.Type.RECORD, value.getType());
    assertEquals(List.of("count", "label", "measure"),
        value.getFields().stream().map(Schema.Field::name).toList());
  }

  /** Counts of each key over all runs: every value must be 1 for exactly-once reads. */
  static Map<String, Integer> multiplicity(List<String> keys) {
    Map<String, Integer> counts = new HashMap<>();
    keys.forEach(k -> counts.merge(k, 1, Integer::sum));
    return counts;
  }

  static Set<String> duplicated(List<String> keys) {
    Set<String> dups = new TreeSet<>();
    multiplicity(keys).forEach((k, n) -> {
      if (n > 1) {
        dups.add(k);
      }
    });
    return dups;
  }
}
