package com.example.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.pipeline.ProjectFiles;
import com.example.testing.ChildProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ingest benchmark's floor (a minimal Beam pipeline in a fresh JVM) is subtracted from the
 * connector's runs ("the connector's own fixed cost is the empty run less the floor"), so its JVM
 * registers Beam's options as a run's does: the SDK's and its runner's, not every runner's and
 * Google Cloud's, which cost a run's JVM 1-1.4 s more to register.
 */
class IngestBenchmarkFloorTest {
  @TempDir Path dir;

  @Test
  void theMinimalPipelinesJvmRegistersTheOptionsARunsJvmDoes() {
    ChildProcess.Result child = ChildProcess.runJava(List.of(), Probe.class.getName(),
        List.of(ProjectFiles.runnerConfig("direct").toString()), dir.resolve("probe.log"), Duration.ofMinutes(2));
    assertEquals(0, child.exitCode(), child.toString());
    assertTrue(child.output().contains("benchmark-child-report ") && child.output().contains(" DirectOptions "),
        child.output());
    for (String other : List.of("FlinkPipelineOptions", "DataflowPipelineOptions", "GcpOptions")) {
      assertFalse(child.output().contains(" " + other + " "), other + " registered: " + child.output());
    }
  }

  /** The benchmark's minimal child on a runner config; at its exit, the options Beam registered. */
  public static final class Probe {
    public static void main(String[] args) throws Exception {
      Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("registered: "
          + PipelineOptionsFactory.getRegisteredOptions().stream().map(Class::getSimpleName).sorted()
              .collect(Collectors.joining(" ", " ", " ")))));
      IngestBenchmark.main(new String[] {"--child", "minimal", args[0], "0"});
    }
  }
}
