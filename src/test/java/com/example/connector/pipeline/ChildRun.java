package com.example.connector.pipeline;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Runs {@link IngestMain} in a child JVM (java from this JVM's java.home, this JVM's test
 * classpath, {@code -Xmx1g}), with its stdout and stderr together in a log file, so that a test can
 * kill it (see {@code CrashFileSystem}) and run the next one on what it left.
 */
public final class ChildRun {
  public static final String MAIN = "com.example.connector.pipeline.IngestMain";

  /** How a child ended: its exit code (-1 if it timed out and was killed) and its output. */
  public record Result(int exitCode, String output, boolean timedOut, Duration took) {
    /** The {@code crash.at: halting at ...} line, or null if the child did not halt. */
    public String haltLine() {
      return output.lines().filter(l -> l.startsWith("crash.at: halting at ")).findFirst().orElse(null);
    }

    @Override
    public String toString() {
      return "exit " + exitCode + (timedOut ? " (timed out, killed)" : "") + " after " + took.toMillis()
          + " ms; output:\n" + output;
    }
  }

  private ChildRun() {}

  /**
   * Runs {@code java -Xmx1g -Dk=v... IngestMain mainArgs...} to completion or until {@code
   * timeout}, when its process tree is killed. Output goes to {@code log} (overwritten).
   */
  public static Result run(List<String> mainArgs, Map<String, String> systemProperties, Path log, Duration timeout) {
    return runMain(MAIN, mainArgs, systemProperties, log, timeout);
  }

  /** As {@link #run}, for any main class on the test classpath. */
  public static Result runMain(
      String mainClass, List<String> mainArgs, Map<String, String> systemProperties, Path log, Duration timeout) {
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      // The classpath goes in an @argfile: it can be longer than one command-line argument may be.
      Path argFile = log.resolveSibling(log.getFileName() + ".args");
      Files.writeString(argFile, "-cp " + quote(String.join(File.pathSeparator, classpath())) + "\n");
      List<String> command = new ArrayList<>(List.of(javaBin(), "-Xmx1g", "@" + argFile));
      systemProperties.forEach((k, v) -> command.add("-D" + k + "=" + v));
      command.add(mainClass);
      command.addAll(mainArgs);
      long started = System.nanoTime();
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      boolean finished;
      try {
        finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } finally {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
      if (!finished) {
        p.waitFor(10, TimeUnit.SECONDS);
      }
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      String output = Files.readString(log, StandardCharsets.UTF_8);
      return new Result(finished ? p.exitValue() : -1, output, !finished, took);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + mainClass, e);
    }
  }

  /**
   * This JVM's real classpath: surefire's {@code surefire.test.class.path} if set, then {@code
   * java.class.path}, with manifest-only jars (surefire's booter jar) expanded to their
   * Class-Path entries.
   */
  static List<String> classpath() throws IOException {
    Set<String> entries = new LinkedHashSet<>();
    for (String property : List.of("surefire.test.class.path", "java.class.path")) {
      String value = System.getProperty(property);
      if (value != null && !value.isBlank()) {
        for (String entry : value.split(File.pathSeparator)) {
          if (!entry.isBlank()) {
            add(entries, Path.of(entry).toAbsolutePath().normalize());
          }
        }
      }
    }
    return List.copyOf(entries);
  }

  private static void add(Set<String> entries, Path entry) throws IOException {
    if (!entries.add(entry.toString()) || !entry.toString().endsWith(".jar") || !Files.isRegularFile(entry)) {
      return;
    }
    try (JarFile jar = new JarFile(entry.toFile())) {
      Manifest manifest = jar.getManifest();
      String classPath = manifest == null ? null : manifest.getMainAttributes().getValue("Class-Path");
      if (classPath == null || jar.stream().anyMatch(e -> e.getName().endsWith(".class"))) {
        return; // a real jar (its Class-Path, if any, the JVM follows anyway)
      }
      entries.remove(entry.toString());
      for (String url : classPath.trim().split("\\s+")) {
        add(entries, url.startsWith("file:") ? Path.of(java.net.URI.create(url)) : entry.resolveSibling(url));
      }
    }
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
