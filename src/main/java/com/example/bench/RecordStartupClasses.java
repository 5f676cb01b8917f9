package com.example.bench;

import com.example.connector.client.SourceConfig;
import com.example.connector.pipeline.IngestMain;
import com.example.connector.pipeline.StartupClasses;
import com.example.source.ExampleSource;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Records {@link StartupClasses}' lists: for each runner, two runs of the five example tables
 * against the embedded source's demo data (the first creates the tables, the second merges into
 * them), each a fresh JVM with {@code -XX:DumpLoadedClassList}, started with this JVM's arguments.
 * The classes they loaded, in order, the JDK's own left out (its class-data archive holds them),
 * are written to {@code src/main/resources}. Run it from the project's directory after a
 * dependency changes:
 *
 * <pre>
 * mvn -q compile exec:exec@run -Dexec.mainClass=com.example.bench.RecordStartupClasses
 * </pre>
 */
public final class RecordStartupClasses {
  private static final Path LISTS = Path.of("src/main/resources/com/example/connector/pipeline");
  /** The JDK's packages, and what is not a plain class name (lambda proxies, CDS annotations). */
  private static final Pattern LEFT_OUT = Pattern.compile("^(java|javax|jdk|sun|com/sun)/.*|.*[@ ].*");
  private static final String CHILD = "--child";

  private RecordStartupClasses() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals(CHILD)) {
      // IngestMain.run, not main: the run being recorded must not preload an older list.
      int exit = IngestMain.run(Arrays.copyOfRange(args, 1, args.length),
          new PrintStream(OutputStream.nullOutputStream()), System.err).exitCode();
      System.exit(exit);
    }
    if (!Files.isDirectory(LISTS)) {
      throw new IllegalStateException(LISTS + " is not here: run this from the project's directory");
    }
    Path work = Files.createTempDirectory("startup-classes");
    for (String runner : StartupClasses.RUNNERS) {
      Set<String> names = new LinkedHashSet<>();
      try (ExampleSource source = ExampleSource.builder().port(0).start()) {
        Path dir = work.resolve(runner);
        Path spec = BenchmarkSpec.write(dir, source, SourceConfig.DEFAULT_MAX_CONCURRENT_REQUESTS,
            IngestBenchmark.TABLES.stream().map(BenchmarkSpec::table).toList());
        for (int run = 1; run <= 2; run++) {
          if (run == 2) {
            change(source);
          }
          names.addAll(record(dir, run, "--spec=" + spec,
              "--runnerConfig=" + IngestBenchmark.runnerConfig(runner), "--outputRoot=" + dir.resolve("out")));
        }
      }
      Path list = LISTS.resolve(StartupClasses.resource(runner));
      Files.write(list, names.stream().map(n -> n.replace('/', '.')).toList());
      System.out.println(runner + ": " + names.size() + " classes written to " + list);
    }
  }

  /**
   * Updates, inserts and deletes in every table, so that the second run merges changes into the
   * tables the first created, as most runs do (with nothing changed, it loaded none of the merge's
   * classes). Then waits for the source's clock to pass them: a run reads up to its start's second.
   */
  private static void change(ExampleSource source) throws InterruptedException {
    for (int i = 1; i <= 5; i++) {
      String n = String.format("%04d", i);
      source.upsert("users", Map.of("user_id", "user_" + n, "email", "changed-" + i + "@example.com"));
      source.upsert("orders", Map.of("order_id", "order_" + n, "status", "shipped"));
      source.upsert("products", Map.of("product_id", "product_" + n, "price", 9.5 + i));
      source.upsert("metrics", Map.of("metric_id", "metric_" + n));
      source.upsert("events", Map.of("event_id", "event_new_" + n));
    }
    source.upsert("users", Map.of("user_id", "user_new", "email", "new@example.com"));
    source.delete("orders", "order_0006");
    Thread.sleep(1_100);
  }

  /** The classes one run loaded, in order, without the left-out ones. */
  private static List<String> record(Path dir, int run, String... args) throws IOException, InterruptedException {
    Path dump = dir.resolve("classes-" + run + ".txt");
    Path log = dir.resolve("run-" + run + ".log");
    List<String> jvm = new ArrayList<>(ManagementFactory.getRuntimeMXBean().getInputArguments());
    jvm.add("-XX:DumpLoadedClassList=" + dump);
    List<String> childArgs = new ArrayList<>(List.of(CHILD));
    childArgs.addAll(List.of(args));
    Process child = new ProcessBuilder(ChildJvm.command(jvm, RecordStartupClasses.class, childArgs))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (child.waitFor() != 0) {
      throw new IllegalStateException("run " + run + " failed; see " + log);
    }
    return Files.readAllLines(dump).stream().filter(n -> !LEFT_OUT.matcher(n).matches()).toList();
  }
}
