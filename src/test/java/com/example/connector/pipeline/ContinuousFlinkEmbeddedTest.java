package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import com.example.testing.ChildProcess;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A continuous run on Flink embedded, as a user starts it (its own JVM, {@code
 * runner-configs/flink-local}, {@code --streaming=true}): Flink checkpoints, the committers commit
 * after them ({@code @RequiresStableInput}), the tables follow the source's writes, and SIGTERM
 * stops the run after a final commit with exit code 0.
 */
class ContinuousFlinkEmbeddedTest {
  @TempDir Path dir;

  @Test
  void tablesFollowTheSourceOnFlinkAndSigtermStopsAfterAFinalCommit() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("continuous.json", "\"source_table\": \"orders\"", "\"source_table\": \"events\"");
      Path log = dir.resolve("run.log");
      List<String> command = ChildProcess.java(dir.resolve("run.args"), List.of("-Xmx1g",
              "--add-opens=java.base/java.util=ALL-UNNAMED"), IngestMain.class.getName(),
          List.of("--spec=" + spec, "--runnerConfig=" + ProjectFiles.runnerConfig("flink-local"),
              "--outputRoot=" + h.output, "--streaming=true", "--pollIntervalSeconds=1", "--commitIntervalSeconds=1",
              "--progressIntervalSeconds=1", "--retryInitialBackoffMillis=1"));
      Process run = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      try {
        awaitEqual(h, source, run, log);
        source.upsert("orders", Map.of("order_id", "order_0004", "status", "delivered", "amount", 9.5));
        source.delete("orders", "order_0006");
        source.upsert("events", Map.of("event_id", "00000000-0000-4000-8000-00000000f10c", "event_type", "view"));
        awaitEqual(h, source, run, log);

        run.destroy(); // SIGTERM
        assertTrue(run.waitFor(2, TimeUnit.MINUTES), "the run stops");
        String output = Files.readString(log);
        assertEquals(0, run.exitValue(), output);
        assertTrue(output.contains("Stopped after a final commit"), output);
        assertTrue(output.matches("(?s).*\\[ +\\d+s\\]  orders: lag .*"), "progress lines show each table's lag");
      } finally {
        run.destroyForcibly();
      }
    }
  }

  /**
   * Without {@code --add-opens=java.base/java.util=ALL-UNNAMED} Flink's checkpoints cannot
   * serialize on Java 17: a continuous run on Flink embedded is refused before it starts, saying
   * which option to add.
   */
  @Test
  void aContinuousRunOnFlinkEmbeddedWithoutTheJdkOpenedIsRefused() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      ChildProcess.Result run = ChildProcess.runJava(List.of("-Xmx1g"), IngestMain.class.getName(),
          List.of("--spec=" + h.spec("continuous.json", "\"source_table\": \"orders\""),
              "--runnerConfig=" + ProjectFiles.runnerConfig("flink-local"), "--outputRoot=" + h.output,
              "--streaming=true"),
          dir.resolve("refused.log"), Duration.ofMinutes(1));
      assertEquals(2, run.exitCode(), run::toString);
      assertTrue(run.output().contains("a continuous run on Flink embedded needs the JVM option"
          + " --add-opens=java.base/java.util=ALL-UNNAMED"), run::toString);
      assertTrue(Files.notExists(h.output), "nothing written");
    }
  }

  /** Waits until orders and events hold the source's rows (polling the tables), then asserts it. */
  private static void awaitEqual(IngestHarness h, ExampleSource source, Process run, Path log) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (!(same(h, source, "orders") && same(h, source, "events")) && System.nanoTime() < deadline) {
      assertTrue(run.isAlive(), () -> "the run ended: " + read(log));
      Thread.sleep(250); // polls the tables, which the run commits every second
    }
    for (String table : List.of("orders", "events")) {
      assertEquals(ScdTablesTest.rendered(ScdTablesTest.currentRows(source, table)),
          ScdTablesTest.renderedTable(h.rows(table)), table + " equals the source, each row once");
    }
  }

  private static boolean same(IngestHarness h, ExampleSource source, String table) throws Exception {
    List<JsonNode> rows = ScdTablesTest.currentRows(source, table);
    return h.table(table) != null
        && ScdTablesTest.rendered(rows).equals(ScdTablesTest.renderedTable(h.rows(table)));
  }

  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (java.io.IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
