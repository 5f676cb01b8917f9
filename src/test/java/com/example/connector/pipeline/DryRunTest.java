package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import com.example.testing.ChildProcess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --dryRun: everything validated, the runner's job graph printed, nothing submitted or written. */
class DryRunTest {
  private static final String PASSWORD = "dry-run-s3cret";

  @TempDir Path dir;

  @Test
  void directRunnerPrintsTheTransformHierarchyAndWritesNothing() throws Exception {
    Path output = dir.resolve("out");
    // A previous run's leftovers: a real run's recovery would delete them, a dry run must not.
    Path leftover = output.resolve("_staging/20260101T000000Z-abcdef/main.example.users/table/part.parquet");
    Files.createDirectories(leftover.getParent());
    Files.writeString(leftover, "x");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = IngestMain.run(
        new String[] {"--runnerConfig=" + ProjectFiles.runnerConfig("direct"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
            "--outputRoot=" + output, "--dryRun"},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
        .exitCode();
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, exit, () -> printed + err.toString(StandardCharsets.UTF_8));
    assertTrue(printed.contains("Beam transforms (as the DirectRunner runs them):\n"
        + "  main.example.users/Feeds\n"), printed);
    assertTrue(printed.contains("\n  main.example.users/Read cursor\n    Split\n      ParMultiDo(SplitFeed)\n    Spread\n"), printed);
    assertTrue(printed.contains("\n    Read\n      Pages\n        ParMultiDo(ReadCursor)\n"), printed);
    assertTrue(printed.contains("\n  Commit\n"), printed);
    assertTrue(printed.contains("    Commit tables and cursors\n      ParMultiDo(Commit)\n"), printed);
    assertTrue(printed.endsWith("dry run: nothing was submitted or written\n"), printed);
    try (var files = Files.walk(output)) {
      assertEquals(List.of(leftover), files.filter(Files::isRegularFile).toList(), "files under the output root");
    }
  }

  @Test
  void flinkPrintsItsExecutionPlan() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = IngestMain.run(
        new String[] {"--runnerConfig=" + ProjectFiles.runnerConfig("flink-local"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
            "--outputRoot=" + dir.resolve("out"), "--dryRun"},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
        .exitCode();
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, exit, () -> printed + err.toString(StandardCharsets.UTF_8));
    assertTrue(printed.matches("(?s).*\nFlink execution plan: \\d+ operators\n.*"), printed);
    assertTrue(printed.matches("(?s).*\n +\\d+  FlatMap +FlatMap at main\\.example\\.users/Read cursor/.* \\(parallelism 2\\) <- \\d+\n.*"), printed);
    assertTrue(printed.endsWith("dry run: nothing was submitted or written\n"), printed);
    assertFalse(Files.exists(dir.resolve("out")), "the output root was created");
  }

  /**
   * The shipped Dataflow config with real-looking project and buckets, offline: GCS is {@link
   * FakeGcs}, the source is reached by a name the child JVM's hosts file maps to 127.0.0.1 (a
   * remote runner refuses a loopback base_url), credentials are the no-op ones.
   */
  @Test
  void dataflowPrintsTheTranslatedJobStepsOffline() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0.0).start();
        FakeGcs gcs = new FakeGcs(Set.of("real-bucket"))) {
      Path hosts = dir.resolve("hosts");
      Files.writeString(hosts, "127.0.0.1 localhost\n127.0.0.1 example-source.test\n");
      Path jar = Files.writeString(dir.resolve("staged.jar"), ""); // staged by a real run, not here
      Path connection = dir.resolve("conn.json");
      Files.writeString(connection, "{\"username\": \"u\", \"password\": \"" + PASSWORD + "\","
          + " \"base_url\": \"http://example-source.test:" + source.baseUrl().getPort() + "\"}");
      ChildProcess.Result r = ChildRun.run(
          List.of("--runnerConfig=" + ProjectFiles.runnerConfig("dataflow"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
              "--connection=" + connection, "--project=real-project",
              "--tempLocation=gs://real-bucket/tmp", "--stagingLocation=gs://real-bucket/staging",
              // A JDBC catalog on a local file stands in for the catalog service (offline).
              "--catalogType=jdbc", "--catalogUri=jdbc:sqlite:" + dir.resolve("catalog.db"),
              "--warehouse=gs://real-bucket/warehouse", "--gcsEndpoint=" + gcs.endpoint(),
              "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory",
              "--filesToStage=" + jar, "--dryRun"),
          Map.of("jdk.net.hosts.file", hosts.toString()),
          dir.resolve("dataflow-dry-run.log"), Duration.ofMinutes(3));
      assertEquals(0, r.exitCode(), r::toString);
      String out = r.output();
      assertTrue(out.matches("(?s).*Dataflow job '[^']+': \\d+ steps\n.*"), out);
      assertTrue(out.matches("(?s).*\n  s\\d+ +ParallelDo +main\\.example\\.users/Read cursor/.*"), out);
      assertTrue(out.matches("(?s).*\n  s\\d+ +ParallelDo +Commit/Commit tables and cursors\n.*"), out);
      assertTrue(out.contains("dry run: nothing was submitted or written"), out);
      assertFalse(out.contains(PASSWORD), "the password was printed");
    }
  }
}
