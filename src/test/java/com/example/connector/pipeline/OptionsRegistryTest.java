package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.ChildProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Beam's options registry of a DirectRunner or Flink run: the SDK's interfaces and the runner's. */
class OptionsRegistryTest {
  /** The registrars of Beam 2.62's jars on this class path, in their services files' order. */
  private static final List<String> CLASS_PATH = List.of(
      "org.apache.beam.sdk.options.DefaultPipelineOptionsRegistrar",
      "org.apache.beam.sdk.options.ManualDockerEnvironmentOptions$Options",
      "org.apache.beam.sdk.options.RemoteEnvironmentOptions$Options",
      "org.apache.beam.sdk.transforms.resourcehints.ResourceHintsOptions$Options",
      "org.apache.beam.sdk.util.construction.ExternalTranslationOptionsRegistrar",
      "org.apache.beam.runners.direct.DirectRegistrar$Options",
      "org.apache.beam.runners.flink.FlinkRunnerRegistrar$Options",
      "org.apache.beam.sdk.extensions.gcp.options.GcpPipelineOptionsRegistrar",
      "org.apache.beam.runners.dataflow.DataflowPipelineRegistrar$Options",
      "org.apache.beam.sdk.io.gcp.common.GcpIoPipelineOptionsRegistrar");

  private static final List<String> SDK = CLASS_PATH.subList(0, 5);

  @Test
  void aRunKeepsTheSdksRegistrarsAndItsRunnersOnly() {
    assertEquals(CLASS_PATH.stream().sorted().toList(), OptionsRegistry.registrars(getClass().getClassLoader()).stream().sorted().toList(),
        "the class path's registrars changed: check what OptionsRegistry drops");
    assertEquals(concat(SDK, "org.apache.beam.runners.flink.FlinkRunnerRegistrar$Options"), OptionsRegistry.kept(CLASS_PATH, List.of("flink")));
    assertEquals(concat(SDK, "org.apache.beam.runners.direct.DirectRegistrar$Options"), OptionsRegistry.kept(CLASS_PATH, List.of("direct")));
    assertEquals(concat(SDK, "org.apache.beam.runners.direct.DirectRegistrar$Options", "org.apache.beam.runners.flink.FlinkRunnerRegistrar$Options"),
        OptionsRegistry.kept(CLASS_PATH, List.of("flink", "direct")), "a benchmark's JVM, both runners");
    // A registrar of the user's own, or of a library, stays.
    assertEquals(List.of("com.acme.AcmeOptionsRegistrar"), OptionsRegistry.kept(List.of("com.acme.AcmeOptionsRegistrar"), List.of("flink")));
  }

  @Test
  void aFreshJvmLimitedToFlinkParsesFlinksOptionsAndNamesAnotherRunnersFlag(@TempDir Path dir) {
    String out = probe(dir, "flink-local");
    assertTrue(out.contains("registered: ") && out.contains(" FlinkPipelineOptions "), out);
    for (String other : List.of("DirectOptions", "DataflowPipelineOptions", "GcpOptions", "BigQueryOptions")) {
      assertFalse(out.contains(" " + other + " "), other + " registered: " + out);
    }
    assertTrue(out.contains("flinkMaster: [local], parallelism: 2"), out);
    assertTrue(out.contains("--project=p: Class interface com.example.connector.pipeline.IngestOptions missing a property named 'project'"), out);
  }

  @Test
  void aFreshJvmOfADataflowRunKeepsEveryRegistrar(@TempDir Path dir) {
    String out = probe(dir, "dataflow");
    for (String registered : List.of("DirectOptions", "FlinkPipelineOptions", "DataflowPipelineOptions", "GcpOptions")) {
      assertTrue(out.contains(" " + registered + " "), registered + " not registered: " + out);
    }
    assertFalse(out.contains("--project=p:"), "--project is Google Cloud's option, registered: " + out);
  }

  /** What {@link Probe} prints in a fresh JVM given a runner config of the project's. */
  private static String probe(Path dir, String runnerConfig) {
    ChildProcess.Result child = ChildProcess.runJava(List.of(), Probe.class.getName(),
        List.of("--runnerConfig=" + ProjectFiles.runnerConfig(runnerConfig)), dir.resolve("probe.log"), Duration.ofMinutes(2));
    assertEquals(0, child.exitCode(), child.toString());
    return child.output();
  }

  private static List<String> concat(List<String> head, String... last) {
    return java.util.stream.Stream.concat(head.stream(), java.util.stream.Stream.of(last)).toList();
  }

  /** The child: limits the registry as a fresh run does (here: for a Flink runner config), then parses its options. */
  public static final class Probe {
    public static void main(String[] args) {
      OptionsRegistry.limitFor(args);
      PipelineOptionsFactory.register(IngestOptions.class);
      System.out.println("registered: " + PipelineOptionsFactory.getRegisteredOptions().stream()
          .map(Class::getSimpleName).sorted().collect(Collectors.joining(" ", " ", " ")));
      FlinkPipelineOptions flink = PipelineOptionsFactory.fromArgs(RunnerConfig.merge(args)).as(FlinkPipelineOptions.class);
      System.out.println("flinkMaster: " + flink.getFlinkMaster() + ", parallelism: " + flink.getParallelism());
      try {
        PipelineOptionsFactory.fromArgs("--project=p").as(IngestOptions.class);
      } catch (IllegalArgumentException e) {
        System.out.println("--project=p: " + e.getMessage());
      }
    }
  }
}
