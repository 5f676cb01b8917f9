package com.example.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.bench.BenchmarkSpec;
import com.example.connector.client.SourceConfig;
import com.example.connector.pipeline.IngestMain;
import com.example.connector.table.CatalogConfig;
import com.example.source.ExampleSource;
import com.example.testing.IcebergFiles;
import com.example.testing.TestClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash trials' check refuses tables that are wrong: the tables of two real runs (the seed,
 * then rounds of the trials' writes) pass it, and each of them made wrong in one row, by
 * Iceberg's own writer, fails it.
 */
class CrashCheckTest {
  private static final String SCD1 = ", \"table_configuration\": {\"scd_type\": \"SCD_TYPE_1\"}";

  @TempDir Path dir;

  @Test
  void aChangeFeedWithOneRowWrongOrMissingFailsTheCheck() throws Exception {
    TestClock clock = TestClock.system();
    ExampleSource.Builder builder = ExampleSource.builder().port(0).errorRate(0).clock(clock)
        .rows("products", 0).rows("metrics", 0);
    for (String table : List.of("users", "orders", "events")) {
      builder.rows(table, 20);
    }
    try (ExampleSource source = builder.start()) {
      SourceHttp http = new SourceHttp(source.baseUrl());
      CrashTraffic traffic = new CrashTraffic(http, new Random(5));
      Path spec = BenchmarkSpec.write(dir, source, SourceConfig.DEFAULT_MAX_CONCURRENT_REQUESTS, List.of(
          BenchmarkSpec.table("users") + SCD1, BenchmarkSpec.table("orders") + SCD1, BenchmarkSpec.table("events"),
          BenchmarkSpec.table("users") + ", \"destination_table\": \"" + CrashCheck.HISTORY + "\","
              + " \"table_configuration\": {\"scd_type\": \"SCD_TYPE_2\"}"));
      run(spec); // the seed: every user's first version read
      traffic.rounds(4); // four users updated, a user and an order added, orders updated and deleted
      clock.advance(Duration.ofSeconds(2)); // past the writes, for the next run's cap
      run(spec);

      Catalog catalog = CatalogConfig.hadoop(dir.resolve("output").toString()).load();
      CrashCheck check = new CrashCheck(http, traffic, true);
      assertEquals(List.of(), failed(check, catalog), "the runs' own tables");
      Table feed = catalog.loadTable(TableIdentifier.of("main", "example", "users__changes"));
      long good = feed.currentSnapshot().snapshotId();

      // One row of the feed holds an email its user never had: no version the source answered.
      rewrite(feed, rows -> {
        Record r = rows.get(0);
        r.setField("email", "wrong@example.com");
        return rows;
      });
      assertEquals(List.of("users__changes"), failed(check, catalog), "a feed row the source never had");

      // The seed version of an updated user left out: every user's versions were read (users_history holds them).
      feed.manageSnapshots().rollbackTo(good).commit();
      String updated = traffic.userVersions().entrySet().stream().filter(e -> e.getValue().size() == 2)
          .map(e -> e.getKey()).findFirst().orElseThrow();
      String seedVersion = traffic.userVersions().get(updated).get(0).get("updated_at").asText();
      rewrite(feed, rows -> {
        List<Record> kept = new ArrayList<>(rows);
        assertTrue(kept.removeIf(r -> r.getField("user_id").equals(updated)
            && CrashCheck.micros(r.getField("updated_at").toString()) == CrashCheck.micros(seedVersion)), updated);
        return kept;
      });
      assertEquals(List.of("users__changes"), failed(check, catalog), "a version every run read, missing from the feed");

      feed.manageSnapshots().rollbackTo(good).commit();
      assertEquals(List.of(), failed(check, catalog), "the feed as the run left it");
    }
  }

  private void run(Path spec) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    IngestMain.Outcome outcome = IngestMain.run(new String[] {"--spec=" + spec, "--outputRoot=" + dir.resolve("output"),
        "--runner=DirectRunner", "--progressIntervalSeconds=0"}, new PrintStream(out, true), new PrintStream(out, true));
    assertEquals(0, outcome.exitCode(), () -> out.toString(StandardCharsets.UTF_8));
  }

  /** The tables the check finds wrong. */
  private static List<String> failed(CrashCheck check, Catalog catalog) {
    List<CrashCheck.Check> checks = check.against(catalog);
    CrashCheck.print(checks, System.out);
    return checks.stream().filter(c -> !c.ok()).map(CrashCheck.Check::table).toList();
  }

  /** Replaces every row of a table (an append-only one: no delete files) with {@code change} of them. */
  private static void rewrite(Table table, UnaryOperator<List<Record>> change) throws Exception {
    List<Record> rows = change.apply(IcebergFiles.rows(table));
    OverwriteFiles overwrite = table.newOverwrite();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      tasks.forEach(t -> overwrite.deleteFile(t.file()));
    }
    overwrite.addFile(IcebergFiles.dataFile(table, rows)).commit();
  }
}
