package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the example pipeline (all five tables) from the bundled jar on a real Flink 1.19 standalone
 * session cluster (src/test/flink/flink-cluster.sh: a JobManager and a TaskManager as separate
 * processes) and on the DirectRunner, against the same simulated source, and checks that both
 * produce the same rows.
 */
class FlinkClusterIT {
  private static final Map<String, Integer> ROWS =
      Map.of("products", 53, "events", 101, "users", 37, "orders", 103, "metrics", 253);

  @TempDir Path dir;

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void flinkClusterAndDirectRunnerWriteTheSameRows() throws Exception {
    String bundled = FlinkCluster.bundledJar();
    long started = System.nanoTime();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0.0).start()) {
      String url = source.baseUrl().toString().replaceAll("/$", "");
      IngestHarness onFlink = new IngestHarness(dir.resolve("flink"), url);
      IngestHarness onDirect = new IngestHarness(dir.resolve("direct"), url);
      Path spec = exampleSpec(onFlink);
      Path directSpec = exampleSpec(onDirect);
      try (FlinkCluster cluster = FlinkCluster.start(dir)) {
        long submitted = System.nanoTime();
        List<String> submit = cluster.submitCommand(bundled, List.of("--spec=" + spec, "--outputRoot=" + onFlink.output,
            "--retryInitialBackoffMillis=10", "--progressIntervalSeconds=2"));
        Path clientLog = dir.resolve("flink-client.log");
        int exit = FlinkCluster.run(submit, clientLog, 240);
        String log = Files.readString(clientLog, StandardCharsets.UTF_8);
        assertEquals(0, exit, () -> "the Flink submission failed:\n" + log + "\n" + cluster.logs());
        assertTrue(log.contains("committed"), log);
        // The summary's counters come from the Flink job's Beam metrics.
        for (Map.Entry<String, Integer> table : ROWS.entrySet()) {
          assertTrue(log.matches("(?s).*main\\.example\\." + table.getKey() + " +\\S+ +\\S+ +" + table.getValue() + " .*"),
              () -> "summary counters for " + table.getKey() + ":\n" + log);
        }
        System.out.printf("FlinkClusterIT: Flink job took %.1f s%n", (System.nanoTime() - submitted) / 1e9);
        detachedRunPrintsTheJobStatusWhileItRuns(source, cluster, bundled, onFlink.spec("users.json",
            "\"source_table\": \"users\", \"table_configuration\": {\"max_records_per_batch\": \"1\"}"));
        detachedRunThatFailsSaysWhy(source, cluster, bundled, onFlink.spec("users.json", "\"source_table\": \"users\""));
      }

      long direct = System.nanoTime();
      onDirect.runOk(directSpec);
      System.out.printf("FlinkClusterIT: DirectRunner took %.1f s%n", (System.nanoTime() - direct) / 1e9);

      for (Map.Entry<String, Integer> table : ROWS.entrySet()) {
        List<String> flinkRows = sourceColumns(onFlink.rows(table.getKey()));
        List<String> directRows = sourceColumns(onDirect.rows(table.getKey()));
        assertEquals(table.getValue().intValue(), flinkRows.size(), "rows of " + table.getKey() + " on Flink");
        assertEquals(directRows, flinkRows, "rows of " + table.getKey() + ": Direct vs Flink");
      }
    }
    System.out.printf("FlinkClusterIT: took %.1f s in all%n", (System.nanoTime() - started) / 1e9);
  }

  /**
   * --attachedMode=false (issue 12.15): IngestMain polls the job and its progress lines carry the
   * JobManager's status of the job. Deterministic: the source holds the users page from user 30's
   * cursor on until the submitting process has printed such a line with the job RUNNING.
   */
  private void detachedRunPrintsTheJobStatusWhileItRuns(
      ExampleSource source, FlinkCluster cluster, String bundled, Path spec) throws Exception {
    CountDownLatch sawRunning = new CountDownLatch(1);
    Pattern running = Pattern.compile("^\\[ *\\d+s\\]  users \\d+  \\(Flink job RUNNING, \\d+/\\d+ operators finished\\)$");
    source.setRequestListener((method, path, query) -> {
      if (path.equals("/tables/users/records") && !ProgressLineTest.since(query).isBefore(ProgressLineTest.HOLD_FROM)) {
        try {
          sawRunning.await(2, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    try {
      Process p = new ProcessBuilder(cluster.submitCommand(bundled, List.of("--attachedMode=false",
              "--spec=" + spec, "--outputRoot=" + dir.resolve("detached-output"),
              "--retryInitialBackoffMillis=10", "--progressIntervalSeconds=1")))
          .redirectErrorStream(true).start();
      StringBuilder log = new StringBuilder();
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
          log.append(line).append('\n');
          if (running.matcher(line).matches()) {
            sawRunning.countDown();
          }
        }
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the detached submission did not end");
      } finally {
        p.destroyForcibly();
      }
      log.toString().lines().filter(l -> l.startsWith("[")).forEach(l -> System.out.println("FlinkClusterIT detached: " + l));
      assertEquals(0, p.exitValue(), log::toString);
      assertEquals(0, sawRunning.getCount(), () -> "no progress line with the job RUNNING:\n" + log);
      assertTrue(log.toString().matches("(?s).*\nmain\\.example\\.users +cdc +scd_type_1 +37 .*"), log::toString);
    } finally {
      source.setRequestListener((method, path, query) -> {});
    }
  }

  /**
   * A detached job that fails: its launcher has no exception of its own, so it says why from the
   * JobManager. The source fails every call from the first records call on; one attempt each.
   */
  private void detachedRunThatFailsSaysWhy(ExampleSource source, FlinkCluster cluster, String bundled, Path spec)
      throws Exception {
    source.setRequestListener((method, path, query) -> {
      if (path.equals("/tables/users/records")) {
        source.setErrorRate(1.0);
      }
    });
    try {
      Path clientLog = dir.resolve("flink-failing-client.log");
      int exit = FlinkCluster.run(cluster.submitCommand(bundled, List.of("--attachedMode=false", "--spec=" + spec,
          "--outputRoot=" + dir.resolve("failing-output"), "--retryMaxAttempts=1")), clientLog, 120);
      String log = Files.readString(clientLog, StandardCharsets.UTF_8);
      assertEquals(1, exit, log);
      assertTrue(log.matches("(?s).*\nerror: the pipeline ended FAILED: \\w+Exception: [^\n]*/tables/users/records"
          + "[^\n]*still failing after 1 attempts?[^\n]*; nothing was committed\n.*"), log);
    } finally {
      source.setRequestListener((method, path, query) -> {});
      source.setErrorRate(0.0);
    }
  }

  /**
   * pipelines/example_ingest.json's tables, except metrics' window: one day instead of two
   * hours, so the ~3 years from the source's base time to now take ~1,000 window reads, not
   * ~13,000 (the rows are the same; it keeps the test well under three minutes); and 40 records
   * per batch, so every incremental read checkpoints with ProcessContinuation.resume() on Flink.
   */
  private static Path exampleSpec(IngestHarness h) {
    return h.spec("example_ingest.json",
        "\"source_table\": \"orders\", \"table_configuration\": {\"max_records_per_batch\": \"40\"}",
        "\"source_table\": \"products\"",
        "\"source_table\": \"metrics\", \"table_configuration\": {\"max_records_per_batch\": \"40\", \"window_seconds\": \"86400\"}",
        "\"source_table\": \"events\", \"table_configuration\": {\"max_records_per_batch\": \"40\", \"limit\": \"50\"}",
        "\"source_table\": \"users\", \"table_configuration\": {\"max_records_per_batch\": \"40\"}");
  }

  /** Each row's columns except the run's own (_run_id, _ingested_at), sorted. */
  private static List<String> sourceColumns(List<GenericRecord> rows) {
    List<String> out = new ArrayList<>();
    for (GenericRecord r : rows) {
      StringBuilder b = new StringBuilder();
      for (Schema.Field f : r.getSchema().getFields()) {
        if (f.name().equals("_run_id") || f.name().equals("_ingested_at")) {
          continue;
        }
        b.append(f.name()).append('=').append(r.get(f.name())).append(';');
      }
      out.add(b.toString());
    }
    out.sort(null);
    return out;
  }
}
