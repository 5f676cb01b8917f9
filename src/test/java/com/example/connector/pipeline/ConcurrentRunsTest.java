package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.connector.table.CatalogConfig;
import com.example.connector.table.Maintenance;
import com.example.source.ExampleSource;
import com.example.testing.TestClock;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two runs on the same tables at once, interleaved by hand: each planned (its cursors and base
 * snapshots taken) before the other commits, then executed one after the other.
 */
class ConcurrentRunsTest {
  @TempDir Path dir;

  /**
   * Two runs on a new destination at once, with different filters: each finds no table when it
   * checks what the destination holds, and the second to create it loaded the first's instead. It
   * then read with its filters into a table that records the other's, unchecked: committed first,
   * its cursor claimed every order though it read the shipped ones only, and the run of the
   * table's own spec after it read on from there, missing the others for good (27 of 103).
   */
  @Test
  void aRunThatFindsItsNewTableCreatedByAnotherMeanwhileIsRefusedBeforeItReads() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path shipped = h.spec("shipped.json",
          "\"source_table\": \"orders\", \"table_configuration\": {\"status\": \"shipped\"}");
      Path all = h.spec("all.json", "\"source_table\": \"orders\"");
      AtomicReference<IngestPlan> other = new AtomicReference<>();
      CreateRaceCatalog.race.set(() -> other.set(plan(h, all))); // plans, creating the tables, inside this one's create
      String[] racing = {"--catalogImpl=" + CreateRaceCatalog.class.getName(), "--warehouse=" + h.output};

      RuntimeException refused = null;
      try {
        execute(h, shipped, plan(h, shipped, racing), racing);
      } catch (RuntimeException e) {
        refused = e;
      }
      try {
        execute(h, all, other.get());
      } catch (RuntimeException e) {
        // the run that lost told to run again
      }
      clock.advance(Duration.ofSeconds(2));
      h.runOk(all);

      assertEquals(103, h.rows("orders").size(), "every order");
      assertNotNull(refused, "the run that found the other's table");
      assertTrue(refused.getMessage().contains("main.example.orders"), refused.getMessage());
      assertTrue(refused.getMessage().contains("run again"), refused.getMessage());
    }
  }

  /**
   * Maintenance compacts the tables while a run reads them: the run's appends (new events, the
   * change feed's rows, a new user) land on top of the compactions, which changed no row, and its
   * delete of a changed user's row, which names a file the compaction replaced, deletes the row
   * where the compaction wrote it. Before, the run failed on each table, saying to run again.
   */
  @Test
  void aRunWhoseTablesWereCompactedWhileItReadCommitsItsRowsOnTop() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("s.json", "\"source_table\": \"events\"", "\"source_table\": \"users\"");
      h.runOk(spec);
      source.upsert("users", Map.of("user_id", "user_new_1", "email", "new1@example.com"));
      source.upsert("events", Map.of("event_id", "event_new_1"));
      clock.advance(Duration.ofSeconds(2));
      h.runOk(spec); // a second, small data file in each table
      source.upsert("users", Map.of("user_id", "user_new_2", "email", "new2@example.com"));
      source.upsert("users", Map.of("user_id", "user_new_1", "email", "changed1@example.com"));
      source.upsert("events", Map.of("event_id", "event_new_2"));
      clock.advance(Duration.ofSeconds(2));

      IngestPlan plan = plan(h, spec);
      for (String table : List.of("events", "users", "users__changes")) {
        assertEquals(1, Maintenance.maintain(h.table(table), Maintenance.Settings.defaults(), Clock.systemUTC())
            .dataFilesAfter(), table + " compacted");
      }
      execute(h, spec, plan);

      List<String> events = keys(h.rows("events"), "event_id");
      assertEquals(103, events.size(), "the 101 seed events and the two new ones");
      assertEquals(103, new TreeSet<>(events).size(), "each once");
      assertTrue(events.containsAll(List.of("event_new_1", "event_new_2")), events.toString());
      Map<String, String> emails = emails(h.rows("users"));
      assertEquals(39, emails.size(), "the 37 seed users and the two new ones");
      assertEquals("new2@example.com", emails.get("user_new_2"));
      assertEquals("changed1@example.com", emails.get("user_new_1"), "its row of the second run deleted, in the compacted file");
      assertEquals(40, h.changes("users").size(), "each change once");
    }
  }

  /**
   * A table dropped (and not created again) while a run read it: the run fails naming the table
   * and what to do, and commits nothing to it. Before, it failed with Iceberg's bare "Table does
   * not exist".
   */
  @Test
  void aRunWhoseTableWasDroppedWhileItReadFailsNamingIt() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(TestClock.system()).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("s.json", "\"source_table\": \"users\"");
      h.runOk(spec);
      IngestPlan plan = plan(h, spec);
      CatalogConfig.hadoop(h.output.toString()).load()
          .dropTable(TableIdentifier.of("main", "example", "users"), true);

      Exception e = assertThrows(Exception.class, () -> execute(h, spec, plan));

      String causes = causes(e);
      assertTrue(causes.contains("table main.example.users was dropped while this run read it"), causes);
      assertTrue(causes.contains("Run again: it creates the table"), causes);
      assertFalse(CatalogConfig.hadoop(h.output.toString()).load()
          .tableExists(TableIdentifier.of("main", "example", "users")), "not created again by this run");
    }
  }

  private static String causes(Throwable e) {
    StringBuilder messages = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      messages.append(t.getMessage()).append('\n');
    }
    return messages.toString();
  }

  private static List<String> keys(List<GenericRecord> rows, String key) {
    List<String> keys = new ArrayList<>();
    rows.forEach(r -> keys.add(String.valueOf(r.get(key))));
    return keys;
  }

  /** Each user's email, failing if a user is in more than one row. */
  private static Map<String, String> emails(List<GenericRecord> rows) {
    Map<String, String> emails = new TreeMap<>();
    for (GenericRecord r : rows) {
      String user = String.valueOf(r.get("user_id"));
      assertEquals(null, emails.put(user, Objects.toString(r.get("email"), null)), "user " + user + " in one row");
    }
    return emails;
  }

  /** A Hadoop catalog that first runs {@link #race} (once) when asked to build a table. */
  public static final class CreateRaceCatalog extends HadoopCatalog {
    static final AtomicReference<Runnable> race = new AtomicReference<>();

    @Override
    public TableBuilder buildTable(TableIdentifier identifier, Schema schema) {
      Runnable other = race.getAndSet(null);
      if (other != null) {
        other.run();
      }
      return super.buildTable(identifier, schema);
    }
  }

  static IngestOptions options(IngestHarness h, Path spec, String... more) {
    PipelineOptionsFactory.register(IngestOptions.class);
    List<String> args = new ArrayList<>(List.of("--runner=DirectRunner", "--spec=" + spec, "--outputRoot=" + h.output));
    args.addAll(List.of(more));
    return PipelineOptionsFactory.fromArgs(args.toArray(String[]::new)).as(IngestOptions.class);
  }

  static IngestPlan plan(IngestHarness h, Path spec, String... more) {
    PipelineSpec parsed = PipelineSpec.load(spec);
    Connection connection = Connection.resolve(parsed.connectionName(), h.dir.resolve("connections"), null);
    SourceConfig source = new SourceConfig(connection.baseUrl(), connection.username(), connection.password(),
        new RetryPolicy(5, Duration.ofMillis(1), Duration.ofMillis(10)));
    return IngestPlanner.plan(parsed, spec.toString(), connection, source, options(h, spec, more), Instant.now());
  }

  static void execute(IngestHarness h, Path spec, IngestPlan plan, String... more) {
    Pipeline pipeline = Pipeline.create(options(h, spec, more));
    IngestPipeline.build(pipeline, plan);
    pipeline.run().waitUntilFinish();
  }
}
