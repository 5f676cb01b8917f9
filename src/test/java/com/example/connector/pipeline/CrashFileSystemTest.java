package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.Timestamps;
import com.example.connector.table.SnapshotSummary;
import com.example.source.ExampleSource;
import com.example.testing.ChildProcess;
import com.example.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Real pipeline processes (IngestMain in a child JVM, its warehouse on {@code crash://}) killed
 * where the {@code crash.at} rule of {@link com.example.testing.CrashingFileSystem} says: mid-write
 * of a data file, before the first table commit, between a change feed's commit and its table's,
 * and after the last commit. After each, a normal run on the same warehouse leaves every table
 * equal to the source and every change feed holding each change once: nothing lost, nothing
 * doubled. Expectations come from the source itself (its rows over HTTP, what its writes returned).
 */
class CrashFileSystemTest {
  private static final String[] SPEC = {
    "\"source_table\": \"users\"", "\"source_table\": \"orders\"", "\"source_table\": \"events\"",
  };
  /** The run's tables in the order it commits them: by name, a change feed before its table. */
  private static final List<String> TABLES = List.of("events", "orders__changes", "orders", "users__changes", "users");
  private static final Duration TIMEOUT = Duration.ofMinutes(2);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern RUN_ID = Pattern.compile("(?m)^Run (\\S+): ");

  @TempDir Path dir;
  private IngestHarness h;
  private Path spec;
  private ExampleSource source;
  private TestClock clock;
  private int kills;
  /**
   * Every version a committing run could read, as {@code key@updated_at} ({@code deleted} for a
   * tombstone), sorted: what the change feeds must hold, once each.
   */
  private final Map<String, Set<String>> changes = new TreeMap<>();

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void killedRunsLoseAndDoubleNothing() throws Exception {
    clock = TestClock.system();
    try (ExampleSource started = ExampleSource.builder().port(0).seed(7).errorRate(0).clock(clock).start()) {
      source = started;
      h = new IngestHarness(dir, source.baseUrl().toString().replaceAll("/$", ""));
      spec = h.spec("crash.json", SPEC);

      // (a) Mid-write of the first data file: the file is cut, the tables exist but hold nothing.
      Killed a = kill("write:/data/:1:1000");
      Matcher cut = Pattern.compile("crash\\.at: halting at write crash://(/.+/data/[^/ ]+\\.parquet) after 1000 bytes")
          .matcher(a.halt());
      assertTrue(cut.matches(), a.halt());
      assertEquals(1000, Files.size(Path.of(cut.group(1))), "the file was left half-written: " + cut.group(1));
      for (String table : TABLES) {
        assertNull(h.table(table).currentSnapshot(), table + " has no snapshot");
      }
      writeToSource(1);
      // The first committing run reads the rows as they are now: a seed version batch 1 replaced is never read.
      for (String table : List.of("users", "orders")) {
        ScdTablesTest.currentRows(source, table).forEach(row -> changed(table, row, false));
      }
      recover();

      // (b) Before the first table commit: the first table's new metadata file is not even created.
      writeToSource(2);
      Map<String, String> before = runIds();
      Killed b = kill("create:.metadata.json:1");
      assertHalted(b, "create " + crash("events") + "/metadata/[0-9a-f-]+\\.metadata\\.json");
      assertEquals(before, runIds(), "nothing committed");
      recover();

      // (c) Between the change feed's commit and its table's: the feed holds the killed run's changes.
      writeToSource(3);
      before = runIds();
      Killed c = kill("rename:/users/metadata/v:1");
      assertHalted(c, "rename " + crash("users") + "/metadata/v\\d+\\.metadata\\.json \\(from .*\\)");
      Map<String, String> expected = new TreeMap<>(before);
      TABLES.subList(0, TABLES.indexOf("users")).forEach(table -> expected.put(table, c.runId()));
      assertEquals(expected, runIds(), "every table before users committed, users__changes last");
      assertEquals(feed("users"), rendered("users", h.changes("users")), "users__changes: the killed run's changes, once");
      writeToSource(4);
      recover(); // reads users from its own, older cursor: the changes the feed already has are not appended again

      // (d) After the last commit, before the process ends: users committed, its version hint not yet rewritten.
      writeToSource(5);
      Killed d = kill("delete:/users/metadata/version-hint.text:1");
      assertHalted(d, "delete " + crash("users") + "/metadata/version-hint\\.text");
      Path metadata = h.tableDir("users").resolve("metadata");
      int hinted = Integer.parseInt(Files.readString(metadata.resolve("version-hint.text")).trim());
      assertTrue(Files.exists(metadata.resolve("v" + (hinted + 1) + ".metadata.json")), "committed past the stale hint");
      for (String table : TABLES) {
        assertEquals(d.runId(), runIds().get(table), table + " committed by the killed run");
      }
      check("after a run killed after its last commit");
      writeToSource(6);
      recover();
    }
  }

  /**
   * A first run killed after its change feed's first commit and before its table's: the table has
   * no cursor, and the next run must load it whole, not from the feed's cursor (CrashTrials found
   * a table left with only the rows written after such a kill). On Flink embedded too, where the
   * commits run in a Flink task.
   */
  @ParameterizedTest
  @CsvSource({"DirectRunner, ", "FlinkRunner, flink-local"})
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aFirstRunKilledBetweenAChangeFeedAndItsTableLosesNothing(String runner, String runnerConfig) throws Exception {
    clock = TestClock.system();
    try (ExampleSource started = ExampleSource.builder().port(0).seed(7).errorRate(0).clock(clock).start()) {
      source = started;
      h = new IngestHarness(dir, source.baseUrl().toString().replaceAll("/$", ""));
      spec = h.spec("crash.json", SPEC);
      for (String table : List.of("users", "orders")) {
        ScdTablesTest.currentRows(source, table).forEach(row -> changed(table, row, false));
      }
      // users' first commit: v1 is the empty table the planner created.
      String runnerOption = runnerConfig == null ? "--runner=" + runner
          : "--runnerConfig=" + ProjectFiles.runnerConfig(runnerConfig);
      Killed k = kill("rename:/users/metadata/v2.metadata:1", runnerOption, runner);
      assertNull(h.table("users").currentSnapshot(), "users never committed");
      assertEquals(k.runId(), runIds().get("users__changes"), "its change feed did");
      if (runnerConfig != null) { // the killed run's embedded cluster left its files, which a later run removes
        assertEquals(1, killedRunsFlinkFiles(), "the killed run's embedded Flink files");
        EmbeddedFlinkFiles.removeAbandoned(childTmp());
        assertEquals(0, killedRunsFlinkFiles(), "removed once the killed run's lock is gone");
      }
      recover();
    }
  }

  /** A run killed at its {@code crash.at} rule: its halt line and its run id. */
  private record Killed(String halt, String runId) {}

  /** Runs the pipeline on the DirectRunner in a child JVM that must die (exit 137, as by kill -9) at {@code rule}. */
  private Killed kill(String rule) {
    return kill(rule, "--runner=DirectRunner", "DirectRunner");
  }

  /** The same on the runner {@code runnerOption} gives (a runner option or a runner config), named {@code runner}. */
  private Killed kill(String rule, String runnerOption, String runner) {
    List<String> args = List.of("--spec=" + spec, "--outputRoot=crash://" + h.output, runnerOption,
        "--retryInitialBackoffMillis=1", "--progressIntervalSeconds=0");
    ChildProcess.Result r = ChildRun.run(args, Map.of("crash.at", rule, "java.io.tmpdir", childTmp().toString()),
        dir.resolve("killed-" + (++kills) + ".log"), TIMEOUT);
    System.out.printf("CrashFileSystemTest: run killed at %s: exit %d in %.1f s%n", rule, r.exitCode(), r.took().toMillis() / 1e3);
    assertEquals(137, r.exitCode(), r::toString);
    String halt = ChildRun.haltLine(r);
    assertNotNull(halt, r::toString);
    Matcher id = RUN_ID.matcher(r.output());
    assertTrue(id.find(), r::toString);
    assertTrue(r.output().contains(" on " + runner + ", "), "a run on " + runner + ": " + r);
    return new Killed(halt, id.group(1));
  }

  /** The killed runs' temporary directory. */
  private Path childTmp() {
    try {
      return Files.createDirectories(dir.resolve("tmp"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private long killedRunsFlinkFiles() throws IOException {
    try (Stream<Path> entries = Files.list(childTmp())) {
      return entries.filter(p -> p.getFileName().toString().startsWith("example-flink-")).count();
    }
  }

  private static void assertHalted(Killed run, String where) {
    assertTrue(run.halt().matches("crash\\.at: halting at " + where), run.halt());
  }

  /** The table's directory as a crash:// URI, quoted for a regex. */
  private String crash(String table) {
    return Pattern.quote("crash://" + h.tableDir(table));
  }

  /** A normal run on what the killed one left: every table committed by it and equal to the source. */
  private void recover() throws Exception {
    String runId = h.runOk(spec).plan().runId();
    for (String table : TABLES) {
      assertEquals(runId, runIds().get(table), table + " committed by the recovery run");
    }
    check("after recovery run " + runId);
  }

  private void check(String when) throws Exception {
    for (String table : List.of("users", "orders", "events")) {
      assertEquals(ScdTablesTest.rendered(ScdTablesTest.currentRows(source, table)),
          ScdTablesTest.renderedTable(h.rows(table)), table + " equals the source " + when);
    }
    for (String table : List.of("users", "orders")) {
      assertEquals(feed(table), rendered(table, h.changes(table)), table + "__changes holds each change once " + when);
    }
  }

  /**
   * Changes the source with keys no earlier batch touched, so every version is still current
   * when the next committing run reads: an update and an insert of a user, an update and a
   * delete of an order, a new event; then moves its clock on, past what the next run caps at.
   */
  private void writeToSource(int batch) {
    changed("users", source.upsert("users", Map.of("user_id", "user_000" + batch, "email", "crash" + batch + "@example.com")), false);
    changed("users", source.upsert("users", Map.of("user_id", "user_910" + batch, "email", "new" + batch + "@example.com")), false);
    changed("orders", source.upsert("orders", Map.of("order_id", "order_00" + batch + "0", "status", "delivered", "amount", 1.0 * batch)), false);
    changed("orders", source.delete("orders", "order_00" + batch + "1"), true);
    source.upsert("events", Map.of("event_id", "00000000-0000-4000-8000-00000000c00" + batch, "event_type", "click"));
    clock.advance(Duration.ofSeconds(2));
  }

  private void changed(String table, Object row, boolean deleted) {
    JsonNode version = JSON.valueToTree(row);
    changes.computeIfAbsent(table, t -> new TreeSet<>()).add(change(version.get(IngestEndToEndTest.key(table)).asText(),
        Timestamps.toMicros(Timestamps.parse(version.get("updated_at").asText())), deleted));
  }

  private List<String> feed(String table) {
    return List.copyOf(changes.get(table));
  }

  private static String change(String key, long updatedAtMicros, boolean deleted) {
    return key + "@" + updatedAtMicros + (deleted ? " deleted" : "");
  }

  /** A change feed's rows as {@link #change}s, sorted. */
  private static List<String> rendered(String table, List<GenericRecord> feed) {
    return feed.stream()
        .map(r -> change(String.valueOf(r.get(IngestEndToEndTest.key(table))), (Long) r.get("updated_at"), Boolean.TRUE.equals(r.get(RecordSchemas.IS_DELETED))))
        .sorted()
        .toList();
  }

  /** Each table's current snapshot's run id ("none" without a snapshot). */
  private Map<String, String> runIds() {
    Map<String, String> ids = new TreeMap<>();
    for (String table : TABLES) {
      Table t = h.table(table);
      Snapshot current = t.currentSnapshot();
      ids.put(table, current == null ? "none" : SnapshotSummary.runId(current));
    }
    return ids;
  }
}
