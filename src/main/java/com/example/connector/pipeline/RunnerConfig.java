package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * {@code --runnerConfig=FILE}: a file of pipeline options, one {@code --option=value} per line
 * ({@code #} starts a comment line; blank lines are ignored), e.g. {@code runner-configs/flink-local}.
 * Its options come first and every option also given on the command line is dropped from it, so
 * the command line wins.
 */
public final class RunnerConfig {
  static final String OPTION = "--runnerConfig";

  private RunnerConfig() {}

  /** The arguments with the runner config file's options merged in (command line first to win). */
  public static String[] merge(String[] args) {
    String file = null;
    for (String arg : args) {
      if (arg.startsWith(OPTION + "=")) {
        file = arg.substring(OPTION.length() + 1);
      } else if (arg.equals(OPTION)) {
        throw new ConfigurationException(
            "--runnerConfig needs a value: write --runnerConfig=PATH, e.g. --runnerConfig=runner-configs/direct");
      }
    }
    if (file == null) {
      return args;
    }
    Set<String> given = new HashSet<>();
    for (String arg : args) {
      given.add(name(arg));
    }
    List<String> merged = new ArrayList<>();
    for (String option : load(Path.of(file))) {
      if (!given.contains(name(option))) {
        merged.add(option);
      }
    }
    merged.addAll(List.of(args));
    return merged.toArray(String[]::new);
  }

  /**
   * The runner these arguments run on: the last {@code --runner} (the runner config's included),
   * reduced as Beam matches it ({@code FlinkRunner}, {@code flink} and {@code
   * org.apache.beam.runners.flink.FlinkRunner} are all {@code flink}); {@code direct} when none is
   * given, as Beam defaults. Empty for arguments the run will reject anyway (a runner config that
   * cannot be read).
   */
  static Optional<String> runner(String[] args) {
    String runner = "direct";
    try {
      for (String arg : merge(args)) {
        if (arg.startsWith("--runner=")) {
          String name = arg.substring("--runner=".length()).toLowerCase(Locale.ROOT);
          runner = name.substring(name.lastIndexOf('.') + 1).replaceFirst("runner$", "");
        }
      }
    } catch (ConfigurationException e) {
      return Optional.empty();
    }
    return Optional.of(runner);
  }

  /** The options of a runner config file, in order. */
  public static List<String> load(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigurationException(
          file + ": cannot read the runner config given with --runnerConfig ("
              + e.getClass().getSimpleName() + "); check the path, e.g. runner-configs/direct");
    }
    List<String> options = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (!line.startsWith("--") || line.length() == 2) {
        throw new ConfigurationException(
            file + " line " + (i + 1) + ": '" + line + "' is not an option; write one"
                + " --option=value per line (comments start with #)");
      }
      if (name(line).equals(OPTION)) {
        throw new ConfigurationException(
            file + " line " + (i + 1) + ": a runner config cannot include another one");
      }
      options.add(line);
    }
    return options;
  }

  private static String name(String arg) {
    int eq = arg.indexOf('=');
    return eq < 0 ? arg : arg.substring(0, eq);
  }
}
