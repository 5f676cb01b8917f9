package com.example.testing;

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
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Child processes for tests: {@code java} on this JVM's test classpath, and any command run
 * bounded, its stdout and stderr together in a log file, its whole process tree killed when it
 * outlives its time (so that a hung child never outlives the test). In a package of its own so
 * that the source's tests and the connector's can share it.
 */
public final class ChildProcess {
  /** How a child ended: its exit code (-1 if it timed out and was killed) and its output. */
  public record Result(int exitCode, String output, boolean timedOut, Duration took) {
    @Override
    public String toString() {
      return "exit " + exitCode + (timedOut ? " (timed out, killed)" : "") + " after " + took.toMillis()
          + " ms; output:\n" + output;
    }
  }

  private ChildProcess() {}

  /**
   * Runs {@code java jvmOptions... mainClass args...} on this JVM's test classpath, as {@link
   * #run}. The classpath goes in an @argfile next to {@code log}.
   */
  public static Result runJava(
      List<String> jvmOptions, String mainClass, List<String> args, Path log, Duration timeout) {
    return run(java(log.resolveSibling(log.getFileName() + ".args"), jvmOptions, mainClass, args), log, timeout);
  }

  /**
   * The command {@code java jvmOptions... @argFile mainClass args...}, with this JVM's test
   * classpath written to {@code argFile}: it can be longer than one command-line argument may be.
   */
  public static List<String> java(Path argFile, List<String> jvmOptions, String mainClass, List<String> args) {
    try {
      Files.createDirectories(argFile.toAbsolutePath().getParent());
      Files.writeString(argFile, "-cp " + quote(String.join(File.pathSeparator, classpath())) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> command = new ArrayList<>();
    command.addAll(javaCommand());
    command.addAll(jvmOptions);
    command.add("@" + argFile);
    command.add(mainClass);
    command.addAll(args);
    return command;
  }

  /**
   * Runs {@code command} to completion or until {@code timeout}, when its process tree is killed.
   * Output goes to {@code log} (overwritten).
   */
  public static Result run(List<String> command, Path log, Duration timeout) {
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
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
      throw new IllegalStateException("interrupted while running " + command, e);
    }
  }

  /**
   * The java of this JVM's java.home (the tests' own) for a test's child JVM: C1 only, since a
   * child lives seconds to minutes, where C2's compilations cost more than they save (measured on
   * the 2-core machine: a short pipeline run's wall time a quarter less, its CPU half).
   */
  public static List<String> javaCommand() {
    return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:TieredStopAtLevel=1");
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
}
