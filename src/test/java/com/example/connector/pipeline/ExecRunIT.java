package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.ChildProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * README's run command, {@code mvn -q exec:exec@run -Dexec.args="..."}, in a child Maven, with
 * the runner configs that run on the launching machine (issue 12.13: Flink's embedded cluster
 * failed under {@code exec:java}). The classes are the ones this build compiled. The run's JVM
 * has a temporary directory of the test's, empty when it has exited: Flink's embedded cluster
 * left its RPC service's 22 MB jar and its working directory in {@code /tmp} on every run.
 */
class ExecRunIT {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"direct", "flink-local"})
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void theReadmeCommandRunsWithTheShippedRunnerConfig(String runnerConfig) throws Exception {
    String mavenHome = System.getProperty("maven.home");
    String mvn = mavenHome == null ? "mvn" : Path.of(mavenHome, "bin", "mvn").toString();
    Path tmp = Files.createDirectory(dir.resolve("tmp"));
    ChildProcess.Result mvnRun = ChildProcess.run(List.of(mvn, "-B", "-q",
            "-f", ProjectFiles.baseDir().resolve("pom.xml").toString(), "exec:exec@run",
            "-Dexec.jvmArgs=-Djava.io.tmpdir=" + tmp,
            "-Dexec.args=--spec=pipelines/minimal.json --runnerConfig=runner-configs/" + runnerConfig
                + " --outputRoot=" + dir.resolve("output")),
        dir.resolve("mvn.log"), Duration.ofMinutes(3));
    String output = mvnRun.output();
    assertFalse(mvnRun.timedOut(), () -> "mvn exec:exec@run did not end in 3 minutes: " + output);
    assertEquals(0, mvnRun.exitCode(), output);
    assertTrue(output.matches("(?s).*\nmain\\.example\\.users +cdc +scd_type_1 +37 .*"), output);
    assertTrue(output.matches("(?s).*\nrun \\S+ committed in .*"), output);
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(List.of(), left.map(p -> p.getFileName().toString()).toList(), "left in the run's temporary directory");
    }
  }
}
