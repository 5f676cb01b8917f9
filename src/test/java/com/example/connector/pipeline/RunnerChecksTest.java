package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.ConfigurationException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pre-flight checks: each refuses its case with exit 2 and a message naming the option and
 * the fix, before the embedded source starts or anything is read. No GCP access: gs:// buckets
 * are served by {@link FakeGcs} on loopback, credentials are the no-op ones.
 */
class RunnerChecksTest {
  private static final String NOOP_CREDENTIALS =
      "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory";
  /** Where GCS calls would go if a check let one through: nothing listens on port 9 of loopback. */
  private static final String NO_GCS = "--gcsEndpoint=http://127.0.0.1:9/storage/v1/";
  /** A catalog a bucket may hold (a Hadoop one is refused there first); never reached by a refused run. */
  private static final String REST_CATALOG = "--catalogType=rest";
  private static final String REST_CATALOG_URI = "--catalogUri=http://127.0.0.1:9/";

  @TempDir Path dir;

  private record Run(int exitCode, String out, String err) {}

  private Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = IngestMain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8)).exitCode();
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** Every run here is offline: no-op credentials, GCS on loopback. */
  private Run refused(String... args) {
    List<String> offline = new ArrayList<>(List.of(args));
    offline.add(NOOP_CREDENTIALS);
    if (offline.stream().noneMatch(a -> a.startsWith("--gcsEndpoint="))) {
      offline.add(NO_GCS);
    }
    Run r = run(offline.toArray(String[]::new));
    assertEquals(2, r.exitCode(), () -> "expected a configuration error:\n" + r);
    assertFalse(r.out().contains("embedded Example source"), () -> "the source was started:\n" + r);
    return r;
  }

  private static void assertMentions(Run r, String... parts) {
    for (String part : parts) {
      assertTrue(r.err().contains(part), () -> "'" + part + "' not in: " + r.err());
    }
  }

  private Path connection(String baseUrl) throws Exception {
    Path file = dir.resolve("conn.json");
    Files.writeString(file, "{\"username\": \"u\", \"password\": \"p\""
        + (baseUrl == null ? "" : ", \"base_url\": \"" + baseUrl + "\"") + "}");
    return file;
  }

  @Test
  void theShippedDataflowConfigIsRefusedForItsPlaceholderProject() {
    Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("dataflow"), "--spec=" + ProjectFiles.pipelines("minimal.json"));
    assertMentions(r, "--project=my-gcp-project: the placeholder of runner-configs/dataflow",
        "add --project=YOUR_PROJECT");
  }

  @Test
  void theShippedDataflowConfigIsRefusedForItsPlaceholderBucket() {
    Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("dataflow"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
        "--project=real-project");
    assertMentions(r, "--tempLocation=gs://my-bucket/example-connector/tmp: the placeholder bucket",
        "--tempLocation=gs://YOUR_BUCKET/");
  }

  @Test
  void theShippedDataflowConfigIsRefusedForItsPlaceholderCatalog() {
    Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("dataflow"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
        "--project=real-project", "--tempLocation=gs://real-bucket/tmp", "--warehouse=gs://real-bucket/warehouse");
    assertMentions(r, "--catalogUri=https://my-iceberg-catalog.example.com/api/catalog: the placeholder of"
        + " runner-configs/dataflow", "naming your Iceberg catalog service");
  }

  @Test
  void dataflowWithALocalWarehouseIsRefused() {
    String local = dir.resolve("out").toString();
    Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("dataflow"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
        "--project=real-project", "--tempLocation=gs://real-bucket/tmp",
        "--stagingLocation=gs://real-bucket/staging", "--catalogUri=https://catalog.real.example/api", "--warehouse=" + local);
    assertMentions(r, "--warehouse=" + local + ": a local path, but DataflowRunner",
        "--warehouse=gs://YOUR_BUCKET/warehouse");
  }

  /**
   * DataflowRunner's own checks ran only when the pipeline was created, after the run had read the
   * source and created its tables: "the pipeline failed" (exit 1); a local temp location failed the
   * checks with a stack trace.
   */
  @Test
  void dataflowsOwnOptionErrorsAreRefusedBeforeAnythingIsRead() throws Exception {
    try (FakeGcs gcs = new FakeGcs(Set.of("real-bucket"))) {
      List<String> dataflow = List.of("--runner=DataflowRunner", "--spec=" + ProjectFiles.pipelines("minimal.json"),
          "--connection=" + connection("http://example-source.invalid:8080"), REST_CATALOG, REST_CATALOG_URI,
          "--warehouse=gs://real-bucket/warehouse", "--gcsEndpoint=" + gcs.endpoint());
      Run r = refused(with(dataflow, "--project=real-project", "--region=", "--tempLocation=gs://real-bucket/tmp"));
      assertMentions(r, "DataflowRunner refuses the options: Missing required pipeline options: region", "--region");
      r = refused(with(dataflow, "--project=p1", "--region=us-central1", "--tempLocation=gs://real-bucket/tmp"));
      assertMentions(r, "Project ID 'p1' invalid");
      String local = dir.resolve("tmp").toString();
      r = refused(with(dataflow, "--project=real-project", "--region=us-central1", "--tempLocation=" + local));
      assertMentions(r, "failed to retrieve gcpTempLocation", "(Invalid GCS URI: " + local + ")", "a gs:// --tempLocation");
      String jar = dir.resolve("no-such.jar").toString();
      r = refused(with(dataflow, "--project=real-project", "--region=us-central1", "--tempLocation=gs://real-bucket/tmp",
          "--filesToStage=" + jar));
      assertMentions(r, "Non-existent files specified in filesToStage: " + jar);
    }
  }

  private static String[] with(List<String> args, String... more) {
    List<String> all = new ArrayList<>(args);
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  @Test
  void aRemoteFlinkClusterWithALocalOutputRootIsRefused() {
    Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("flink-cluster"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
        "--flinkMaster=flink-jobmanager.example:8081", "--outputRoot=output");
    assertMentions(r, "--outputRoot=output: a local path, but the Flink cluster at flink-jobmanager.example:8081");
  }

  @Test
  void theEmbeddedSourceIsRefusedOnARemoteRunner() {
    Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("flink-cluster"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
        "--flinkMaster=flink-jobmanager.example:8081", "--outputRoot=gs://real-bucket/out", REST_CATALOG,
        REST_CATALOG_URI);
    assertMentions(r, "connection 'my_example_connection': no base_url",
        "run the standalone source", "set base_url in the connection");
  }

  @Test
  void aLoopbackBaseUrlIsRefusedOnDataflow() throws Exception {
    Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("dataflow"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
        "--connection=" + connection("http://localhost:8080"), "--project=real-project",
        "--tempLocation=gs://real-bucket/tmp", "--warehouse=gs://real-bucket/warehouse",
        "--catalogUri=https://catalog.real.example/api");
    assertMentions(r, "base_url http://localhost:8080 is a loopback address", "DataflowRunner cannot reach");
  }

  @Test
  void aFlinkClusterOnThisMachineMayUseALocalOutputRootAndTheEmbeddedSource() throws Exception {
    IngestOptions options = options("--runnerConfig=" + ProjectFiles.runnerConfig("flink-cluster"), "--outputRoot=output");
    assertEquals(RunnerChecks.Target.THIS_MACHINE, RunnerChecks.Target.of(options));
    assertDoesNotThrow(() -> RunnerChecks.check(options, Connection.parse(
        "{\"username\": \"u\", \"password\": \"p\"}", "c.json")));
    assertEquals(RunnerChecks.Target.THIS_JVM,
        RunnerChecks.Target.of(options("--runnerConfig=" + ProjectFiles.runnerConfig("flink-local"))));
    assertEquals(RunnerChecks.Target.THIS_JVM,
        RunnerChecks.Target.of(options("--runnerConfig=" + ProjectFiles.runnerConfig("direct"))));
    assertEquals(RunnerChecks.Target.REMOTE,
        RunnerChecks.Target.of(options("--runnerConfig=" + ProjectFiles.runnerConfig("flink-cluster"), "--flinkMaster=10.1.2.3:8081")));
  }

  /**
   * The master's host as Flink's runner reads it (host:port): a Docker-style name with '_', which
   * java.net.URI takes for no host at all, is another machine; an empty master names the option.
   */
  @Test
  void aFlinkMasterIsReadAsTheRunnerReadsIt() {
    String cluster = "--runnerConfig=" + ProjectFiles.runnerConfig("flink-cluster");
    assertEquals(RunnerChecks.Target.REMOTE, RunnerChecks.Target.of(options(cluster, "--flinkMaster=flink_jobmanager:8081")));
    assertEquals(RunnerChecks.Target.REMOTE, RunnerChecks.Target.of(options(cluster, "--flinkMaster=http://flink_jm.corp:8081/")));
    assertEquals(RunnerChecks.Target.THIS_MACHINE, RunnerChecks.Target.of(options(cluster, "--flinkMaster=https://localhost:8081")));
    assertEquals(RunnerChecks.Target.THIS_MACHINE, RunnerChecks.Target.of(options(cluster, "--flinkMaster=[::1]:8081")));
    Run r = refused(cluster, "--spec=" + ProjectFiles.pipelines("minimal.json"), "--flinkMaster=flink_jobmanager:8081",
        "--outputRoot=output");
    assertMentions(r, "--outputRoot=output: a local path, but the Flink cluster at flink_jobmanager:8081");
    r = refused(cluster, "--spec=" + ProjectFiles.pipelines("minimal.json"), "--flinkMaster=", "--outputRoot=output");
    assertMentions(r, "--flinkMaster=: names no host");
  }

  @Test
  void aHadoopCatalogOnABucketIsRefusedBeforeTheBucketIsAsked() throws Exception {
    try (FakeGcs gcs = new FakeGcs(Set.of())) {
      Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("direct"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
          "--warehouse=gs://" + FakeGcs.HELD + "/wh", "--gcsEndpoint=" + gcs.endpoint(), "--preflightTimeoutSeconds=1");
      assertMentions(r, "--warehouse/--outputRoot=gs://" + FakeGcs.HELD + "/wh: a Hadoop catalog commits by renaming",
          "--catalogType=rest");
      assertFalse(r.err().contains("did not answer"), () -> "the bucket was asked first:\n" + r);
    }
  }

  @Test
  void aRestCatalogWithoutItsUriIsRefused() {
    Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("direct"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
        "--outputRoot=" + dir.resolve("out"), REST_CATALOG);
    assertMentions(r, "--catalogType=rest: a rest catalog needs its endpoint", "add --catalogUri=https://");
  }

  @Test
  void aMissingBucketIsRefused() throws Exception {
    try (FakeGcs gcs = new FakeGcs(Set.of("real-bucket"))) {
      Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("direct"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
          "--outputRoot=gs://no-such-bucket/out", REST_CATALOG, REST_CATALOG_URI, "--gcsEndpoint=" + gcs.endpoint());
      assertMentions(r, "--outputRoot=gs://no-such-bucket/out: bucket gs://no-such-bucket", "does not exist");
    }
  }

  @Test
  void aBucketThatDoesNotAnswerIsRefusedAfterTheTimeout() throws Exception {
    try (FakeGcs gcs = new FakeGcs(Set.of())) {
      Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("direct"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
          "--outputRoot=gs://" + FakeGcs.HELD + "/out", REST_CATALOG, REST_CATALOG_URI, "--gcsEndpoint=" + gcs.endpoint(),
          "--preflightTimeoutSeconds=1");
      assertMentions(r, "bucket gs://" + FakeGcs.HELD, "did not answer within 1 s", "--preflightTimeoutSeconds");
    }
  }

  /**
   * An embedded cluster lives in this JVM, and has no REST address to follow a detached job by:
   * detached, the launcher failed at once ("URISyntaxException: Malformed IPv6 address ...
   * http://[local]/jobs/...", exit 1) while the job ran on, and exited under it.
   */
  @Test
  void embeddedFlinkDetachedIsRefused() {
    Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("flink-local"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
        "--attachedMode=false", "--outputRoot=" + dir.resolve("out"));
    assertMentions(r, "--attachedMode=false: ", "--flinkMaster=[local]");
    assertFalse(Files.exists(dir.resolve("out")), "nothing written");
  }

  /** Beam applies --savepointPath to a cluster only: an embedded job started afresh, saying nothing. */
  @Test
  void embeddedFlinkFromASavepointIsRefused() {
    Run r = refused("--runnerConfig=" + ProjectFiles.runnerConfig("flink-local"), "--spec=" + ProjectFiles.pipelines("minimal.json"),
        "--streaming=true", "--dryRun=true", "--savepointPath=" + dir.resolve("savepoint-1"), "--outputRoot=" + dir.resolve("out"));
    assertMentions(r, "--savepointPath: ", "--flinkMaster=[local]", "does not restore savepoints");
    assertFalse(Files.exists(dir.resolve("out")), "nothing written");
  }

  /** Under mvn exec:java the system class loader holds Maven's launcher only (issue 12.13). */
  @Test
  void embeddedFlinkIsRefusedWhenTheSystemClassLoaderCannotSeeFlink() throws Exception {
    try (URLClassLoader mavenLike = new URLClassLoader(new URL[0], ClassLoader.getPlatformClassLoader())) {
      ConfigurationException e = assertThrows(ConfigurationException.class,
          () -> RunnerChecks.checkEmbeddedFlinkCanLoadTheJob(mavenLike));
      assertTrue(e.getMessage().contains("--flinkMaster=[local]"), e.getMessage());
      assertTrue(e.getMessage().contains("mvn -q compile exec:exec@run"), e.getMessage());
    }
    assertDoesNotThrow(() -> RunnerChecks.checkEmbeddedFlinkCanLoadTheJob(ClassLoader.getSystemClassLoader()));
  }

  private static IngestOptions options(String... args) {
    PipelineOptionsFactory.register(IngestOptions.class);
    return PipelineOptionsFactory.fromArgs(RunnerConfig.merge(args)).as(IngestOptions.class);
  }
}
