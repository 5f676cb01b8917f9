package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.ConfigurationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --runnerConfig=FILE: the file's options apply, the same option on the command line wins. */
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

  @Test
  void everyShippedRunnerConfigParses() {
    PipelineOptionsFactory.register(IngestOptions.class);
    for (String name : List.of("direct", "flink-local", "flink-cluster", "dataflow")) {
      String[] merged = RunnerConfig.merge(new String[] {"--runnerConfig=runner-configs/" + name});
      PipelineOptionsFactory.fromArgs(merged).withValidation().as(IngestOptions.class);
    }
    String[] direct = RunnerConfig.merge(new String[] {"--runnerConfig=runner-configs/direct", "--targetParallelism=1"});
    assertEquals(1, PipelineOptionsFactory.fromArgs(direct).as(DirectOptions.class).getTargetParallelism());
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
