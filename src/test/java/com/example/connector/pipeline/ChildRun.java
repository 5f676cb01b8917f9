package com.example.connector.pipeline;

import com.example.testing.ChildProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs {@link IngestMain} in a child JVM ({@link ChildProcess}: this JVM's java and test
 * classpath, {@code -Xmx1g}, the JDK opened for Flink), with its stdout and stderr together in a
 * log file, so that a test can kill it (see {@code com.example.testing.CrashingFileSystem}) and
 * run the next one on what it left.
 */
public final class ChildRun {
  public static final String MAIN = "com.example.connector.pipeline.IngestMain";

  private ChildRun() {}

  /**
   * Runs {@code java -Xmx1g --add-opens... -Dk=v... IngestMain mainArgs...} to completion or
   * until {@code timeout}, when its process tree is killed. Output goes to {@code log}
   * (overwritten).
   */
  public static ChildProcess.Result run(
      List<String> mainArgs, Map<String, String> systemProperties, Path log, Duration timeout) {
    // The JDK opening Flink needs (the launcher's option too); nothing to the DirectRunner.
    List<String> jvmOptions = new ArrayList<>(List.of("-Xmx1g", "--add-opens=java.base/java.util=ALL-UNNAMED"));
    systemProperties.forEach((k, v) -> jvmOptions.add("-D" + k + "=" + v));
    return ChildProcess.runJava(jvmOptions, MAIN, mainArgs, log, timeout);
  }

  /** The {@code crash.at: halting at ...} line of a child's output, or null if it did not halt. */
  public static String haltLine(ChildProcess.Result result) {
    return result.output().lines().filter(l -> l.startsWith("crash.at: halting at ")).findFirst().orElse(null);
  }
}
