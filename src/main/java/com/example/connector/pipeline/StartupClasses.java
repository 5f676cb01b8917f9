package com.example.connector.pipeline;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Loads the classes a run on the DirectRunner or embedded Flink will need, on a background thread,
 * while the main thread parses the options: a fresh JVM's run spends its first seconds on one
 * core, most of them loading classes from some 380 jars, and Beam's registration of every options
 * interface on the class path alone takes 1-1.5 s of it. The JDK builds its own start-up the same
 * way (its {@code lib/classlist}, recorded from a training run).
 *
 * <p>The lists are resources recorded from real runs by {@link
 * com.example.bench.RecordStartupClasses}, one per runner, in the order those runs loaded them.
 * Classes are loaded, not initialized: no static initializer runs earlier than it would have. A
 * name that no longer exists (a list older than a dependency) is skipped; the thread is a daemon
 * and never fails the run.
 */
public final class StartupClasses {
  /** The runners with a list, by the name their {@code --runner} value reduces to. */
  public static final List<String> RUNNERS = List.of("direct", "flink");

  private StartupClasses() {}

  /** Starts loading the classes of the run these arguments describe; nothing for another runner. */
  public static void loadInBackground(String[] args) {
    runner(args).ifPresent(runner -> {
      Thread loader = new Thread(() -> load(names(runner)), "startup-classes");
      loader.setDaemon(true);
      loader.start();
    });
  }

  /** The list's runner ({@link RunnerConfig#runner}); empty for a runner without a list. */
  static Optional<String> runner(String[] args) {
    return RunnerConfig.runner(args).filter(RUNNERS::contains);
  }

  /** The resource of a runner's list. */
  public static String resource(String runner) {
    return "startup-classes-" + runner + ".txt";
  }

  /** The class names of a runner's list, in load order; none if the resource is missing. */
  static List<String> names(String runner) {
    List<String> names = new ArrayList<>();
    try (InputStream in = StartupClasses.class.getResourceAsStream(resource(runner))) {
      if (in != null) {
        BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
          names.add(line.strip());
        }
      }
    } catch (IOException e) {
      // no list: the run loads its classes as it goes
    }
    return names;
  }

  /** Loads each class without initializing it; returns how many loaded. */
  static int load(List<String> names) {
    ClassLoader loader = StartupClasses.class.getClassLoader();
    int loaded = 0;
    for (String name : names) {
      try {
        Class.forName(name, false, loader);
        loaded++;
      } catch (ClassNotFoundException | LinkageError e) {
        // gone from the class path since the list was recorded: the run does not need it
      }
    }
    return loaded;
  }
}
