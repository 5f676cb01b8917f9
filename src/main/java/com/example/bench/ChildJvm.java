package com.example.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line of a child JVM as the benchmarks and crash trials start one: this JVM's java, on its classpath. */
public final class ChildJvm {
  private ChildJvm() {}

  /** {@code main} with {@code args}, in a JVM with {@code jvmOptions}. */
  public static List<String> command(List<String> jvmOptions, Class<?> main, List<String> args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(args);
    return command;
  }
}
