package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.ChildProcess;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real Flink 1.19 standalone session cluster on loopback for the ITs that submit the bundled
 * jar to it: src/test/flink/flink-cluster.sh's JobManager and TaskManager, separate processes,
 * configured in {@code DIR/flink-conf}; stopped on close.
 */
final class FlinkCluster implements AutoCloseable {
  private static final Path SCRIPT = ProjectFiles.baseDir().resolve("src/test/flink/flink-cluster.sh");

  private final Path dir;
  final Path conf;
  /** The JobManager's REST port: its API and web UI, and the runner's {@code --flinkMaster}. */
  final String restPort;

  private FlinkCluster(Path dir, Path conf, String restPort) {
    this.dir = dir;
    this.conf = conf;
    this.restPort = restPort;
  }

  /** Starts the cluster and waits until its TaskManager's slots are there (the script's wait). */
  static FlinkCluster start(Path dir) throws IOException {
    Path conf = dir.resolve("flink-conf");
    int exit = run(List.of("bash", SCRIPT.toString(), "start", conf.toString()), dir.resolve("cluster-start.log"), 150);
    assertTrue(exit == 0, () -> "the Flink cluster did not start (" + dir.resolve("cluster-start.log") + ")");
    return new FlinkCluster(dir, conf, Files.readString(conf.resolve("rest.port")).strip());
  }

  /** The bundled jar (system property bundled.jar, set by failsafe), which must be built first. */
  static String bundledJar() {
    String bundled = System.getProperty("bundled.jar");
    assertTrue(bundled != null && Files.isRegularFile(Path.of(bundled)),
        "the bundled jar (system property bundled.jar) must be built first: " + bundled);
    return bundled;
  }

  String master() {
    return "localhost:" + restPort;
  }

  /**
   * The command that submits the bundled jar's pipeline to this cluster as README does (a child
   * JVM, runner-configs/flink-cluster, the jar staged), with {@code args} added.
   */
  List<String> submitCommand(String bundled, List<String> args) {
    List<String> command = new ArrayList<>(ChildProcess.javaCommand());
    command.addAll(List.of("-Xmx1g", "-jar", bundled, "--runnerConfig=" + ProjectFiles.runnerConfig("flink-cluster"),
        "--flinkMaster=" + master(), "--filesToStage=" + bundled));
    command.addAll(args);
    return command;
  }

  /** Runs a command to completion ({@link ChildProcess#run}), failing the test if it times out. */
  static int run(List<String> command, Path log, long timeoutSeconds) {
    ChildProcess.Result r = ChildProcess.run(command, log, Duration.ofSeconds(timeoutSeconds));
    if (r.timedOut()) {
      throw new AssertionError(command + " did not finish in " + timeoutSeconds + " s; output:\n" + r.output());
    }
    return r.exitCode();
  }

  /** The ends of the JobManager's and the TaskManager's logs, for a failure's message. */
  String logs() {
    StringBuilder b = new StringBuilder();
    for (String name : List.of("jobmanager.log", "taskmanager.log")) {
      File f = conf.resolve(name).toFile();
      try {
        String text = f.exists() ? Files.readString(f.toPath(), StandardCharsets.UTF_8) : "(none)";
        b.append("--- ").append(name).append(" (tail)\n")
            .append(text.substring(Math.max(0, text.length() - 4000))).append('\n');
      } catch (IOException e) {
        b.append(name).append(": ").append(e).append('\n');
      }
    }
    return b.toString();
  }

  @Override
  public void close() {
    run(List.of("bash", SCRIPT.toString(), "stop", conf.toString()), dir.resolve("cluster-stop.log"), 60);
  }
}
