package com.example.bench;

import com.example.bench.HeapGauge;
import com.example.bench.MinimalPipeline;
import com.example.bench.WorkDir;
import com.example.connector.client.SourceConfig;
import com.example.connector.pipeline.IngestMain;
import com.example.connector.pipeline.OptionsRegistry;
import com.example.connector.pipeline.RunnerConfig;
import com.example.connector.table.CatalogConfig;
import com.example.connector.table.SnapshotSummary;
import com.example.source.ExampleSource;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * What an incremental SCD run costs against a full one (issue 13's target: a run changing 1% of
 * a 1,000,000-row SCD type 1 table takes at most 10% of the full run's time; a run in which
 * nothing changed adds no data file): per runner, a first run of {@code users} into an empty
 * table, {@code --incremental-runs} runs (default 3) each after another {@code --changed-percent}
 * of the users were updated (spread over the whole key space, different keys each time, so that
 * each run reads the deletes of the runs before it, as a table between compactions does), and a
 * run after no change. The source answers each call after {@code --latency-ms} (default 20), as
 * a remote API does.
 *
 * <pre>
 * mvn -q compile exec:exec@run -Dexec.mainClass=com.example.bench.MergeBenchmark -Dexec.jvmArgs=-Xmx1g \
 *     -Dexec.args="--users=1000000 --changed-percent=1 --runners=direct,flink"
 * </pre>
 *
 * <p>{@code exec:exec@run} starts it with the JVM options a run started by README's command gets
 * (serial GC, C1 only), and it limits Beam's options registry to the SDK's and its runners' options
 * as a run's own JVM does ({@link OptionsRegistry}), so that it measures the runs users make: with
 * Dataflow's and Google Cloud's options registered too, which no DirectRunner or Flink run has,
 * Flink's translation serialized them for each operator, 0.15 s more per run.
 *
 * <p>Per run it prints seconds and the ratio to the first run, that ratio net of the runner's
 * floor (below: both times less the floor), the records read, the data and delete files the run's
 * commit added (from the snapshot summary), the committed data files the merge opened and ruled
 * out by their statistics, the rows inserted and deleted, the table's rows after the run, and the
 * peak heap. Last, per runner, the seconds of a {@link MinimalPipeline} in the same warm JVM (what
 * any Beam job costs there, the floor under each run), and how many changed runs met the target,
 * as measured and net of the floor. After each run, outside its time, the table is read back
 * ({@link LandedRows}): every user once, each changed user with its new email, or the benchmark
 * fails instead of scoring the run.
 */
public final class MergeBenchmark {
  /** Issue 13's target: a run changing 1% of the table takes at most this share of the first run's time. */
  private static final double TARGET_RATIO = 0.10;
  /** How a changed user's email begins; no seed email does. */
  private static final String CHANGED = "changed-";

  private record Run(String name, double seconds, long records, long dataFilesAdded, long deleteFilesAdded,
      long filesRead, long filesSkipped, long inserted, long deleted, long tableRows, long peakHeap) {}

  private MergeBenchmark() {}

  public static void main(String[] args) throws Exception {
    long users = 1_000_000;
    double percent = 1;
    int incrementalRuns = 3;
    long latencyMs = 20;
    List<String> runners = List.of("direct");
    for (String arg : args) {
      String[] kv = arg.replaceFirst("^--", "").split("=", 2);
      switch (kv[0]) {
        case "users" -> users = Long.parseLong(kv[1]);
        case "changed-percent" -> percent = Double.parseDouble(kv[1]);
        case "incremental-runs" -> incrementalRuns = Integer.parseInt(kv[1]);
        case "latency-ms" -> latencyMs = Long.parseLong(kv[1]);
        case "runners" -> runners = List.of(kv[1].split(","));
        default -> throw new IllegalArgumentException("unknown option '" + arg
            + "'; use --users=N, --changed-percent=P, --incremental-runs=N, --latency-ms=N, --runners=direct,flink");
      }
    }
    OptionsRegistry.limitTo(runners); // as a run's own JVM has it (IngestMain.main)
    long step = Math.max(1, Math.round(100 / percent));
    if (incrementalRuns < 1 || incrementalRuns > step) {
      throw new IllegalArgumentException("--incremental-runs must be 1 to " + step
          + " (each run changes other keys, one in every " + step + "): " + incrementalRuns);
    }
    try (WorkDir scratch = WorkDir.create("merge-bench")) {
      Path work = scratch.path();
      HeapGauge heap = HeapGauge.start();
      List<Run> runs = new ArrayList<>();
      Map<String, Double> floors = new LinkedHashMap<>();
      // Users advance one minute per row: anchor the seed so that the newest is in the past.
      Instant baseTime = Instant.now().minus(Duration.ofMinutes(users + 60));
      for (String runner : runners) {
        ExampleSource.Builder builder = ExampleSource.builder().port(0).errorRate(0).latencyMs(latencyMs).baseTime(baseTime)
            .rows("users", users).rows("events", 0).rows("orders", 0).rows("metrics", 0).rows("products", 0);
        try (ExampleSource source = builder.start()) {
          Path dir = work.resolve(runner);
          Path spec = BenchmarkSpec.write(dir, source, SourceConfig.DEFAULT_MAX_CONCURRENT_REQUESTS,
              List.of(BenchmarkSpec.table("users")));
          Path output = dir.resolve("output");
          Path config = Path.of("runner-configs", runner.equals("flink") ? "flink-local" : "direct");
          Map<String, String> changed = new HashMap<>(); // each changed user's email
          runs.add(checked(run(runner + ": first run", spec, config, output, heap), output, users, changed));
          int width = Math.max(4, Long.toString(users - 1).length());
          for (int n = 0; n < incrementalRuns; n++) {
            for (long i = n; i < users; i += step) {
              String key = String.format("user_%0" + width + "d", i);
              changed.put(key, CHANGED + i + "@example.com");
              source.upsert("users", Map.of("user_id", key, "email", changed.get(key)));
            }
            awaitNextSecond(); // the writes are stamped with the source's clock, which the cap must pass
            runs.add(checked(run(runner + ": " + percent + "% changed" + (incrementalRuns > 1 ? " #" + (n + 1) : ""),
                spec, config, output, heap), output, users, changed));
          }
          awaitNextSecond();
          runs.add(checked(run(runner + ": nothing changed", spec, config, output, heap), output, users, changed));
          floors.put(runner, minimalPipeline(config));
        }
      }
      print(users, latencyMs, runs, floors);
      scratch.measured();
    }
  }

  private static void awaitNextSecond() throws InterruptedException {
    Thread.sleep(1100);
  }

  private static Run run(String name, Path spec, Path runnerConfig, Path output, HeapGauge heap)
      throws InterruptedException {
    heap.reset();
    long start = System.nanoTime();
    IngestMain.Outcome outcome = IngestMain.run(new String[] {"--spec=" + spec, "--runnerConfig=" + runnerConfig,
        "--outputRoot=" + output, "--progressIntervalSeconds=0"}, new PrintStream(OutputStream.nullOutputStream()), System.err);
    double seconds = (System.nanoTime() - start) / 1e9;
    if (outcome.exitCode() != 0) {
      throw new IllegalStateException(name + " failed (exit " + outcome.exitCode() + ")");
    }
    Map<String, Long> c = outcome.counters().getOrDefault("main.example.users", Map.of());
    Snapshot s = CatalogConfig.hadoop(output.toString()).load()
        .loadTable(TableIdentifier.of("main", "example", "users")).currentSnapshot();
    Run run = new Run(name, seconds, c.getOrDefault("records", 0L), number(s, "added-data-files"),
        number(s, "added-delete-files"), c.getOrDefault("merge_files_read", 0L), c.getOrDefault("merge_files_skipped", 0L),
        c.getOrDefault("rows_inserted", 0L), c.getOrDefault("rows_deleted", 0L), SnapshotSummary.liveRows(s), heap.peakUsed());
    System.err.println("measured: " + run);
    return run;
  }

  /**
   * The run, once its table is read back (outside its time) and holds every user once and each
   * changed user's email: a run that is fast because it merged wrong must not score.
   */
  private static Run checked(Run run, Path output, long users, Map<String, String> changed) {
    Map<String, List<String>> rows = LandedRows.byKey(CatalogConfig.hadoop(output.toString()).load()
        .loadTable(TableIdentifier.of("main", "example", "users")), "user_id", "email");
    String wrong = wrongMerge(rows, users, changed);
    if (wrong != null) {
      throw new IllegalStateException(run.name() + ": " + wrong);
    }
    return run;
  }

  /**
   * Null if {@code rows} (emails by user) hold {@code users} users, each once, the users of {@code
   * changed} with their new email and no other user a changed one; else what is wrong.
   */
  static String wrongMerge(Map<String, List<String>> rows, long users, Map<String, String> changed) {
    String wrong = LandedRows.wrongKeys("users", rows, users);
    if (wrong != null) {
      return wrong;
    }
    List<String> stale = changed.entrySet().stream().filter(e -> !List.of(e.getValue()).equals(rows.get(e.getKey())))
        .map(Map.Entry::getKey).sorted().limit(3).toList();
    long withChange = rows.values().stream().filter(v -> v.get(0).startsWith(CHANGED)).count();
    if (stale.isEmpty() && withChange == changed.size()) {
      return null;
    }
    return "users: " + withChange + " rows with a changed email, where " + changed.size() + " users were changed"
        + (stale.isEmpty() ? "" : "; without their new email: " + stale);
  }

  /**
   * Seconds of a {@link MinimalPipeline} on the runner config, in this JVM as warm as the runs
   * before it: the runner's floor under every run (planning, starting and finishing a job).
   */
  private static double minimalPipeline(Path runnerConfig) {
    long start = System.nanoTime();
    MinimalPipeline.run(RunnerConfig.load(runnerConfig).toArray(String[]::new), 0);
    return (System.nanoTime() - start) / 1e9;
  }

  private static long number(Snapshot s, String key) {
    String v = s == null ? null : s.summary().get(key);
    return v == null ? 0 : Long.parseLong(v);
  }

  private static void print(long users, long latencyMs, List<Run> runs, Map<String, Double> floors) {
    System.out.printf("%nMerge benchmark: SCD type 1 users, %,d rows, source latency %d ms, %d cores, max heap %d MB,"
            + " one JVM with %s%n", users, latencyMs, Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20,
        ManagementFactory.getRuntimeMXBean().getInputArguments());
    String format = "%-26s %8s %6s %9s %10s %11s %13s %10s %12s %9s %8s %11s %8s%n";
    System.out.printf(format, "run", "seconds", "ratio", "net ratio", "records", "data files", "delete files",
        "files read", "files pruned", "inserted", "deleted", "table rows", "heap MB");
    Map<String, int[]> within = new LinkedHashMap<>(); // per runner: changed runs, within 10%, within 10% net
    double first = 0;
    for (Run r : runs) {
      String runner = r.name().substring(0, r.name().indexOf(':'));
      first = r.name().endsWith("first run") ? r.seconds() : first;
      double floor = floors.get(runner);
      double ratio = r.seconds() / first;
      double net = (r.seconds() - floor) / (first - floor);
      if (r.name().contains("% changed")) {
        int[] counts = within.computeIfAbsent(runner, k -> new int[3]);
        counts[0]++;
        counts[1] += ratio <= TARGET_RATIO ? 1 : 0;
        counts[2] += net <= TARGET_RATIO ? 1 : 0;
      }
      System.out.printf(format, r.name(), String.format("%.1f", r.seconds()), String.format("%.3f", ratio),
          String.format("%.3f", net), String.format("%,d", r.records()), "+" + r.dataFilesAdded(),
          "+" + r.deleteFilesAdded(), r.filesRead(), r.filesSkipped(), String.format("%,d", r.inserted()),
          String.format("%,d", r.deleted()), String.format("%,d", r.tableRows()), r.peakHeap() >> 20);
    }
    System.out.print("\n" + MinimalPipeline.DESCRIPTION + " in the same warm JVM, the runner's floor:");
    floors.forEach((runner, seconds) -> System.out.printf(" %s %.1f s (%.3f of its first run);", runner, seconds,
        seconds / runs.stream().filter(r -> r.name().equals(runner + ": first run")).findFirst().orElseThrow().seconds()));
    System.out.print("\nchanged runs taking at most " + Math.round(TARGET_RATIO * 100) + "% of the first run's time:");
    within.forEach((runner, c) -> System.out.printf(" %s %d of %d (net of the floor %d of %d);", runner, c[1], c[0],
        c[2], c[0]));
    System.out.println();
  }
}
