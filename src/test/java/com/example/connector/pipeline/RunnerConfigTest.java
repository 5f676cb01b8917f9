package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.ConfigurationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.runners.dataflow.DataflowRunner;
import org.apache.beam.runners.dataflow.options.DataflowPipelineOptions;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.flink.api.common.ExecutionMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --runnerConfig=FILE: the file's options apply, the same option on the command line wins; each
 * shipped config sets what README says it does.
 */
class RunnerConfigTest {
  @TempDir Path dir;

  @Test
  void commandLineOptionsOverrideTheFile() throws Exception {
    Path file = dir.resolve("flink");
    Files.writeString(file, "# a comment\n\n--runner=FlinkRunner\n  --parallelism=4\n--retryMaxAttempts=7\n");
    String[] merged = RunnerConfig.merge(new String[] {
        "--runnerConfig=" + file, "--parallelism=2", "--spec=s.json"});
    assertEquals(List.of("--runner=FlinkRunner", "--retryMaxAttempts=7",
        "--runnerConfig=" + file, "--parallelism=2", "--spec=s.json"), List.of(merged));

    PipelineOptionsFactory.register(IngestOptions.class);
    FlinkPipelineOptions options = PipelineOptionsFactory.fromArgs(merged).withValidation().as(FlinkPipelineOptions.class);
    assertEquals("FlinkRunner", options.getRunner().getSimpleName());
    assertEquals(2, options.getParallelism(), "command line wins");
    assertEquals(7, options.as(IngestOptions.class).getRetryMaxAttempts(), "from the file");
  }

  @Test
  void withoutRunnerConfigArgumentsAreUnchanged() {
    String[] args = {"--spec=s.json", "--runner=DirectRunner"};
    assertEquals(List.of(args), List.of(RunnerConfig.merge(args)));
  }

  /**
   * A Dataflow job's default name, which `--update` and the console show, starts with the app's:
   * it was "optionchecks-USER-TIME", after the class that parsed the options. A given --appName wins.
   */
  @Test
  void theDefaultJobNameIsTheConnectorsNotTheOptionParsers() {
    PipelineOptionsFactory.register(IngestOptions.class);
    String[] dataflow = {"--spec=s.json", "--runner=DataflowRunner"};
    assertTrue(OptionChecks.parse(dataflow, IngestOptions.class).as(DataflowPipelineOptions.class).getJobName()
        .startsWith("exampleconnector-"));
    String[] named = {"--spec=s.json", "--runner=DataflowRunner", "--appName=Nightly"};
    assertTrue(OptionChecks.parse(named, IngestOptions.class).as(DataflowPipelineOptions.class).getJobName()
        .startsWith("nightly-"));
  }

  private static <T extends PipelineOptions> T shipped(String name, Class<T> type) {
    PipelineOptionsFactory.register(IngestOptions.class);
    String[] merged = RunnerConfig.merge(new String[] {"--runnerConfig=" + ProjectFiles.runnerConfig(name)});
    return PipelineOptionsFactory.fromArgs(merged).withValidation().as(type);
  }

  @Test
  void directSetsTheDirectRunnerWithEightThreads() {
    DirectOptions direct = shipped("direct", DirectOptions.class);
    assertEquals(DirectRunner.class, direct.getRunner());
    assertEquals(8, direct.getTargetParallelism());
    String[] overridden = RunnerConfig.merge(new String[] {"--runnerConfig=" + ProjectFiles.runnerConfig("direct"), "--targetParallelism=1"});
    assertEquals(1, PipelineOptionsFactory.fromArgs(overridden).as(DirectOptions.class).getTargetParallelism());
  }

  @Test
  void flinkLocalSetsAnEmbeddedBatchClusterOfParallelismTwo() {
    FlinkPipelineOptions flink = shipped("flink-local", FlinkPipelineOptions.class);
    assertEquals(FlinkRunner.class, flink.getRunner());
    assertEquals("[local]", flink.getFlinkMaster());
    assertEquals(2, flink.getParallelism());
    assertFalse(flink.isStreaming());
    assertEquals(ExecutionMode.BATCH_FORCED.name(), flink.getExecutionModeForBatch(), "every exchange blocking");
    assertTrue(flink.getFasterCopy(), "elements not deep-copied between chained operators");
    assertTrue(flink.getAttachedMode(), "attached: the default");
  }

  @Test
  void flinkClusterSetsAnAttachedBatchJobOnLocalhost8081WithTheBundledJar() {
    FlinkPipelineOptions flink = shipped("flink-cluster", FlinkPipelineOptions.class);
    assertEquals(FlinkRunner.class, flink.getRunner());
    assertEquals("localhost:8081", flink.getFlinkMaster());
    assertEquals(2, flink.getParallelism());
    assertFalse(flink.isStreaming());
    assertEquals(ExecutionMode.BATCH_FORCED.name(), flink.getExecutionModeForBatch());
    assertTrue(flink.getFasterCopy());
    assertTrue(flink.getAttachedMode());
    assertEquals(List.of("target/example-connector-0.1.0-SNAPSHOT-bundled.jar"), List.copyOf(flink.getFilesToStage()));
  }

  @Test
  void dataflowSetsPlaceholdersTheChecksRefuse() {
    DataflowPipelineOptions dataflow = shipped("dataflow", DataflowPipelineOptions.class);
    assertEquals(DataflowRunner.class, dataflow.getRunner());
    assertEquals("my-gcp-project", dataflow.getProject());
    assertEquals("us-central1", dataflow.getRegion());
    assertEquals("gs://my-bucket/example-connector/tmp", dataflow.getTempLocation());
    assertEquals("gs://my-bucket/example-connector/staging", dataflow.getStagingLocation());
    IngestOptions ingest = dataflow.as(IngestOptions.class);
    assertEquals("rest", ingest.getCatalogType());
    assertEquals("https://my-iceberg-catalog.example.com/api/catalog", ingest.getCatalogUri());
    assertTrue(ingest.getCatalogUri().contains(RunnerChecks.PLACEHOLDER_CATALOG_HOST));
    assertEquals("gs://my-bucket/example-connector/warehouse", ingest.getWarehouse());
    assertEquals("e2-standard-2", dataflow.getWorkerMachineType());
    assertEquals(4, dataflow.getMaxNumWorkers());
    assertEquals(List.of("target/example-connector-0.1.0-SNAPSHOT-bundled.jar"), List.copyOf(dataflow.getFilesToStage()));
    assertTrue(RunnerChecks.PLACEHOLDER_PROJECTS.contains(dataflow.getProject()));
    assertTrue(RunnerChecks.PLACEHOLDER_BUCKETS.contains("my-bucket"));
  }

  @Test
  void badFilesAreConfigurationErrors() throws Exception {
    Path file = dir.resolve("bad");
    Files.writeString(file, "runner=DirectRunner\n");
    ConfigurationException e = assertThrows(ConfigurationException.class,
        () -> RunnerConfig.merge(new String[] {"--runnerConfig=" + file}));
    assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    assertThrows(ConfigurationException.class,
        () -> RunnerConfig.merge(new String[] {"--runnerConfig=" + dir.resolve("missing")}));
  }
}
