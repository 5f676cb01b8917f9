package com.example.bench;

import com.example.bench.HeapGauge;
import com.example.bench.MinimalPipeline;
import com.example.bench.WorkDir;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Page;
import com.example.connector.client.Password;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.connector.pipeline.IngestMain;
import com.example.connector.pipeline.OptionsRegistry;
import com.example.connector.pipeline.RunnerConfig;
import com.example.connector.table.CatalogConfig;
import com.example.source.ExampleSource;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Measures what users meet: the pipeline on the shipped runner configs, with the documented
 * default table options, against a source that answers after 0, 20 or 100 ms per call, next to a
 * plain sequential keyset client against the same source, and prints one table per latency.
 *
 * <pre>
 * mvn -q compile exec:exec@run -Dexec.mainClass=com.example.bench.IngestBenchmark \
 *     -Dexec.args="--runners=direct,flink --latency-ms=0,20"
 * </pre>
 *
 * <p>Options: {@code --latency-ms=0,20,100} (the scenarios, default {@code 0,20}),
 * {@code --max-concurrent-requests=N} (the connection's option; default its own default),
 * {@code --runners=direct,flink} (runner-configs/direct and runner-configs/flink-local, found in
 * the working directory or the project's basedir), {@code --TABLE=N} (a table's volume; default
 * the 100,000 metrics, 20,000 events, 10,000 users and orders, 2,000 products).
 *
 * <p>The source is the simulated one, in this process, with no injected faults and its seed
 * anchored so that every record is older than the run; each scenario restarts it with that
 * latency and the same data. Every run is a fresh JVM, as a user's run is, started with this
 * JVM's own arguments (launched by {@code exec:exec@run}, the launcher's), so that its seconds,
 * CPU and memory are its own: not the source's, and not warmed or grown by an earlier run. The
 * <b>sequential</b> run pages through every table once with the connector's HTTP client and
 * keyset paging ({@code since} = the last cursor seen), no Beam. Each <b>pipeline</b> run is the
 * real main, end to end into Iceberg tables (a Hadoop catalog) under a temporary root.
 * Seconds are from the child's start to its exit; calls are the requests the source served
 * meanwhile; peak calls in flight is the pipeline's {@code peak_in_flight} (1 for the sequential
 * client); CPU is the child's, JVM start included, less its heap sampler's; peak heap by {@link
 * HeapGauge}; peak RSS is the child's {@code VmHWM}. A run counts only if it got the source's rows:
 * the sequential client must have read every record, and each pipeline run's tables, read back
 * with Iceberg's generic reader ({@link LandedRows}), must hold each table's keys once each;
 * otherwise the benchmark fails, naming the run.
 *
 * <p>Before the scenarios, two fixed costs per runner, each a fresh JVM: the runner's floor, a
 * {@link MinimalPipeline} with the runner config's options (what any Beam job pays there, its
 * JVM's options registry limited as a run's, {@code OptionsRegistry}), and an
 * empty run of the pipeline (a source with no rows: what the connector adds before its first
 * record). Both are also given as CPU milliseconds per 1,000 of the scenarios' records. And what
 * the runner itself burns while its work waits: the minimal pipeline again with one element
 * waiting, its extra CPU per second of the wait.
 */
public final class IngestBenchmark {
  /** The benchmark's tables: every table of the Example source. */
  static final List<String> TABLES = List.of("products", "events", "users", "orders", "metrics");
  /** Each table's key, by which a run's tables are checked against the source's volume. */
  private static final Map<String, String> KEYS = Map.of("products", "product_id", "events", "event_id",
      "users", "user_id", "orders", "order_id", "metrics", "metric_id");
  /** The {@code --runners} names and the shipped runner config each runs with. */
  private static final Map<String, String> RUNNER_CONFIGS = Map.of("direct", "direct", "flink", "flink-local");
  private static final String USAGE =
      "use --latency-ms=0,20,100, --runners=direct,flink, --max-concurrent-requests=N or --TABLE=N (TABLE one of "
          + TABLES + ")";
  /**
   * The first argument of a child run, before its own: {@code sequential BASE_URL}, {@code
   * pipeline ARGS...} or {@code minimal RUNNER_CONFIG WAIT_MILLIS} ({@link MinimalPipeline}).
   */
  private static final String CHILD = "--child";
  /** How long the waiting minimal pipeline's one element waits. */
  private static final long WAIT_MILLIS = 3000;

  /** What the command line asks for: volumes per table, runners (with their configs), latencies. */
  private record Settings(Map<String, Long> rows, Map<String, Path> runners, List<Long> latenciesMs,
      long maxConcurrentRequests) {}

  /** One measured run of one scenario. */
  private record Run(String name, long latencyMs, double seconds, long calls, ChildReport child) {}

  /** What a child run reports of itself, on its last line of output. */
  private record ChildReport(long records, long peakInFlight, long cpuNanos, long peakHeap, long peakRss) {
    private static final String PREFIX = "benchmark-child-report ";

    String line() {
      return PREFIX + records + " " + peakInFlight + " " + cpuNanos + " " + peakHeap + " " + peakRss;
    }

    static Optional<ChildReport> find(List<String> output) {
      return output.stream().filter(l -> l.startsWith(PREFIX)).findFirst().map(l -> {
        long[] v = Arrays.stream(l.substring(PREFIX.length()).split(" ")).mapToLong(Long::parseLong).toArray();
        return new ChildReport(v[0], v[1], v[2], v[3], v[4]);
      });
    }
  }

  private IngestBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals(CHILD)) {
      child(Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    Settings settings = settings(args);
    // Users and metrics advance one minute per row: anchor the seed so the newest is in the past.
    long minutes = Math.max(settings.rows().get("users"), settings.rows().get("metrics")) + 60;
    Instant baseTime = Instant.now().minus(Duration.ofMinutes(minutes));
    try (WorkDir scratch = WorkDir.create("ingest-bench")) {
      Path work = scratch.path();
      // What a run costs before its first record (JVM start, graph, five empty tables): a source
      // with no rows, no latency.
      List<Run> empty;
      Map<String, Long> noRows = new LinkedHashMap<>();
      TABLES.forEach(t -> noRows.put(t, 0L));
      try (ExampleSource source = startSource(noRows, 0, baseTime)) {
        empty = pipelines(settings, source, work.resolve("empty"), 0, noRows);
      }
      // What any Beam job costs on each runner (the floor under the empty run), and the same job
      // with one element waiting, as a read waits on calls: what the runner costs while it waits.
      List<Run> minimal = new ArrayList<>();
      List<Run> waiting = new ArrayList<>();
      Path minimalLogs = Files.createDirectories(work.resolve("minimal"));
      for (Map.Entry<String, Path> runner : settings.runners().entrySet()) {
        String name = "pipeline, " + runner.getKey();
        String config = runner.getValue().toString();
        minimal.add(measure(name, 0, null, minimalLogs.resolve(runner.getKey() + ".log"), "minimal", config, "0"));
        waiting.add(measure(name, 0, null, minimalLogs.resolve(runner.getKey() + "-waiting.log"), "minimal", config,
            Long.toString(WAIT_MILLIS)));
      }
      List<Run> runs = new ArrayList<>();
      for (long latency : settings.latenciesMs()) {
        try (ExampleSource source = startSource(settings.rows(), latency, baseTime)) {
          Path dir = work.resolve(latency + "ms");
          Path log = Files.createDirectories(dir).resolve("sequential.log");
          Run sequential = measure("sequential client", latency, source, log, "sequential", source.baseUrl().toString());
          long records = settings.rows().values().stream().mapToLong(Long::longValue).sum();
          if (sequential.child().records() != records) { // a client that stopped early would be a fast baseline
            throw new IllegalStateException("the sequential client at " + latency + " ms read "
                + sequential.child().records() + " records of the source's " + records + "; see " + log);
          }
          runs.add(sequential);
          runs.addAll(pipelines(settings, source, dir, latency, settings.rows()));
        }
      }
      print(settings, minimal, waiting, empty, runs);
      scratch.measured();
    }
  }

  /** The simulated source with these rows per table and latency, no injected faults, seeded from {@code baseTime}. */
  private static ExampleSource startSource(Map<String, Long> rows, long latencyMs, Instant baseTime) {
    ExampleSource.Builder builder = ExampleSource.builder().port(0).errorRate(0).baseTime(baseTime).latencyMs(latencyMs);
    rows.forEach(builder::rows);
    return builder.start();
  }

  /**
   * The pipeline on each runner of the settings, against {@code source} (holding {@code rows} per
   * table), under {@code dir}; each run's tables must hold the source's rows.
   */
  private static List<Run> pipelines(Settings settings, ExampleSource source, Path dir, long latency,
      Map<String, Long> rows) throws IOException, InterruptedException {
    Path spec = BenchmarkSpec.write(dir, source, settings.maxConcurrentRequests(),
        TABLES.stream().map(BenchmarkSpec::table).toList());
    List<Run> runs = new ArrayList<>();
    for (Map.Entry<String, Path> runner : settings.runners().entrySet()) {
      Path output = dir.resolve("out-" + runner.getKey());
      Path log = dir.resolve(runner.getKey() + ".log");
      runs.add(measure("pipeline, " + runner.getKey(), latency, source, log,
          "pipeline", "--spec=" + spec, "--runnerConfig=" + runner.getValue(),
          "--outputRoot=" + output, "--progressIntervalSeconds=0"));
      // Its time counts only if it landed what the source holds: its records counter is the connector's own.
      String wrong = landed(output, rows);
      if (wrong != null) {
        throw new IllegalStateException("pipeline, " + runner.getKey() + " at " + latency + " ms: " + wrong + "; see " + log);
      }
    }
    return runs;
  }

  /** Null if each table under {@code output} holds {@code rows} of it, each key once; else what is wrong. */
  static String landed(Path output, Map<String, Long> rows) {
    Catalog catalog = CatalogConfig.hadoop(output.toString()).load();
    for (String table : TABLES) {
      String key = KEYS.get(table);
      String wrong = LandedRows.wrongKeys(table,
          LandedRows.byKey(catalog.loadTable(TableIdentifier.of("main", "example", table)), key, key), rows.get(table));
      if (wrong != null) {
        return wrong;
      }
    }
    return null;
  }

  private static Settings settings(String[] args) {
    Map<String, Long> rows = new LinkedHashMap<>(Map.of(
        "metrics", 100_000L, "events", 20_000L, "users", 10_000L, "orders", 10_000L, "products", 2_000L));
    List<String> runners = List.of("direct", "flink");
    List<Long> latencies = List.of(0L, 20L);
    long maxConcurrentRequests = SourceConfig.DEFAULT_MAX_CONCURRENT_REQUESTS;
    for (String arg : args) {
      String[] kv = arg.replaceFirst("^--", "").split("=", 2);
      if (kv.length != 2) {
        throw new IllegalArgumentException("expected --name=value, got '" + arg + "'; " + USAGE);
      }
      if (kv[0].equals("runners")) {
        runners = List.of(kv[1].split(","));
      } else if (kv[0].equals("max-concurrent-requests")) {
        maxConcurrentRequests = wholeNumber("--max-concurrent-requests", kv[1]);
      } else if (kv[0].equals("latency-ms")) {
        latencies = new ArrayList<>();
        for (String ms : kv[1].split(",")) {
          latencies.add(wholeNumber("--latency-ms", ms));
        }
      } else if (rows.containsKey(kv[0])) {
        rows.put(kv[0], wholeNumber("--" + kv[0], kv[1]));
      } else {
        throw new IllegalArgumentException("unknown option '" + arg + "'; " + USAGE);
      }
    }
    Map<String, Path> configs = new LinkedHashMap<>();
    runners.forEach(r -> configs.put(r, runnerConfig(r)));
    return new Settings(rows, configs, List.copyOf(latencies), maxConcurrentRequests);
  }

  private static long wholeNumber(String option, String value) {
    try {
      long n = Long.parseLong(value.strip());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below, with the option's name
    }
    throw new IllegalArgumentException(option + ": '" + value + "' is not a whole number >= 0; " + USAGE);
  }

  /** The shipped runner config of a {@code --runners} name, from the working directory or the basedir. */
  static Path runnerConfig(String runner) {
    String file = RUNNER_CONFIGS.get(runner);
    if (file == null) {
      throw new IllegalArgumentException("--runners: unknown runner '" + runner + "'; use " + RUNNER_CONFIGS.keySet());
    }
    List<Path> bases = new ArrayList<>(List.of(Path.of("").toAbsolutePath()));
    projectBasedir().ifPresent(bases::add);
    for (Path base : bases) {
      Path config = base.resolve("runner-configs").resolve(file);
      if (Files.isRegularFile(config)) {
        return config;
      }
    }
    throw new IllegalArgumentException("runner-configs/" + file + " (for --runners=" + runner + ") is in none of "
        + bases + "; run the benchmark from the project's directory");
  }

  /** The project's directory: two up from target/classes or from the jar under target/. */
  private static Optional<Path> projectBasedir() {
    try {
      Path classes = Path.of(IngestBenchmark.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return Optional.ofNullable(classes.getParent()).map(Path::getParent);
    } catch (URISyntaxException | SecurityException e) {
      return Optional.empty();
    }
  }

  /**
   * Runs one child JVM to its end and measures it: its seconds, the calls the source served
   * meanwhile (none without a source), and what it reports of itself. A child that fails stops the
   * benchmark, naming its log.
   */
  private static Run measure(String name, long latencyMs, @Nullable ExampleSource source, Path log, String... childArgs)
      throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of(CHILD));
    args.addAll(List.of(childArgs));
    List<String> command = ChildJvm.command(ManagementFactory.getRuntimeMXBean().getInputArguments(), IngestBenchmark.class, args);
    long calls = source == null ? 0 : source.requestCount();
    long start = System.nanoTime();
    Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      int exit = child.waitFor();
      double seconds = (System.nanoTime() - start) / 1e9;
      Optional<ChildReport> report = ChildReport.find(Files.readAllLines(log));
      if (exit != 0 || report.isEmpty()) {
        throw new IllegalStateException(name + " at " + latencyMs + " ms failed (exit " + exit + "); see " + log);
      }
      Run run = new Run(name, latencyMs, seconds, source == null ? 0 : source.requestCount() - calls, report.get());
      System.err.println("measured: " + run); // survives a later run that fails
      return run;
    } finally {
      child.destroyForcibly(); // nothing if it ended; a child must not outlive a failed benchmark
    }
  }

  /** A child run: the work its arguments name, then its report line. */
  private static void child(String[] args) throws Exception {
    HeapGauge heap = HeapGauge.start();
    long records;
    long peakInFlight;
    if (args[0].equals("sequential")) {
      records = sequential(new SourceConfig(URI.create(args[1]), "bench", Password.inline("bench"), RetryPolicy.DEFAULT));
      peakInFlight = 1;
    } else if (args[0].equals("minimal")) {
      // Beam's options registry as a run's JVM has it (IngestMain.runInFreshJvm): the floor is subtracted from runs.
      OptionsRegistry.limitFor(new String[] {"--runnerConfig=" + args[1]});
      MinimalPipeline.run(RunnerConfig.load(Path.of(args[1])).toArray(String[]::new), Long.parseLong(args[2]));
      records = 0;
      peakInFlight = 0;
    } else {
      IngestMain.Outcome outcome = IngestMain.runInFreshJvm(Arrays.copyOfRange(args, 1, args.length),
          new PrintStream(OutputStream.nullOutputStream()), System.err);
      if (outcome.exitCode() != 0) {
        System.exit(outcome.exitCode());
      }
      records = outcome.counters().values().stream().mapToLong(c -> c.getOrDefault("records", 0L)).sum();
      peakInFlight =
          outcome.counters().values().stream().mapToLong(c -> c.getOrDefault("peak_in_flight", 0L)).max().orElse(0);
    }
    long cpu = cpuNanos() - heap.samplerCpuNanos(); // the benchmark's own sampling is not the run's
    System.out.println(new ChildReport(records, peakInFlight, cpu, heap.peakUsed(), RssGauge.peakOfThisProcess()).line());
    System.exit(0); // the runners leave non-daemon threads behind
  }

  /** Every table once, sequentially, keyset-paged: what one plain client gets from this source. */
  static long sequential(SourceConfig config) {
    long read = 0;
    try (ExampleClient client = ExampleClient.create(config)) {
      TableCatalog catalog = TableCatalog.discover(client);
      for (String name : TABLES) {
        String cursorField = catalog.table(name, "benchmark").cursorField();
        Map<String, String> params = new HashMap<>();
        for (int page = 1; ; ) {
          if (cursorField == null) {
            params.put("page", Integer.toString(page++));
          }
          Page p = client.records(name, params);
          read += p.records().size();
          if (p.isLast() || p.records().isEmpty()) {
            break;
          }
          if (cursorField != null) { // no ties in this data set, so the last cursor is a clean boundary
            ObjectNode last = p.records().get(p.records().size() - 1);
            params.put("since", Timestamps.format(Timestamps.parse(last.get(cursorField).asText())));
          }
        }
      }
    }
    return read;
  }

  private static void print(Settings settings, List<Run> minimal, List<Run> waiting, List<Run> empty, List<Run> runs) {
    long records = settings.rows().values().stream().mapToLong(Long::longValue).sum();
    System.out.printf("%nIngest benchmark: %,d records (%s), max_concurrent_requests %d, %d cores,"
            + " each run a fresh JVM with %s, load average %.1f%n",
        records, settings.rows(), settings.maxConcurrentRequests(),
        Runtime.getRuntime().availableProcessors(), ManagementFactory.getRuntimeMXBean().getInputArguments(),
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    System.out.println("seconds = the run's JVM from start to exit; ratio = sequential seconds / run seconds"
        + " (> 1: faster than the sequential client); calls = requests the source served; CPU = the run's JVM's"
        + " CPU time, its start included, less the benchmark's heap sampler (the source runs in the benchmark's own"
        + " JVM); past start = the same less an empty run's; peak RSS = the run's VmHWM");
    printFixedCost(MinimalPipeline.DESCRIPTION + " on the same runner config", minimal, records);
    System.out.print("\nthe runner while its work waits (the minimal pipeline, one element waiting "
        + WAIT_MILLIS / 1000 + " s):");
    for (int i = 0; i < waiting.size(); i++) {
      double cpuPerSecond = (waiting.get(i).child().cpuNanos() - minimal.get(i).child().cpuNanos()) / 1e6 / WAIT_MILLIS;
      System.out.printf(" %s %.2f CPU-s per second of waiting;", waiting.get(i).name(), cpuPerSecond);
    }
    System.out.println();
    printFixedCost("an empty run (no records, 0 ms)", empty, records);
    String format = "%-20s %10s %8s %6s %7s %14s %14s %14s %13s %12s%n";
    for (long latency : settings.latenciesMs()) {
      System.out.printf("%n%d ms per call%n", latency);
      System.out.printf(format, "run", "records", "seconds", "ratio", "calls", "peak in flight", "CPU ms/1k rec",
          "past start", "peak heap MB", "peak RSS MB");
      double sequential = seconds(runs, "sequential client", latency).orElseThrow();
      for (Run r : runs) {
        if (r.latencyMs() == latency) {
          ChildReport c = r.child();
          Optional<String> pastStart = empty.stream().filter(e -> e.name().equals(r.name())).findFirst()
              .map(e -> String.format("%.1f", perThousand(c.cpuNanos() - e.child().cpuNanos(), c.records())));
          System.out.printf(format, r.name(), String.format("%,d", c.records()), String.format("%.1f", r.seconds()),
              String.format("%.2f", sequential / r.seconds()), String.format("%,d", r.calls()), c.peakInFlight(),
              String.format("%.1f", perThousand(c.cpuNanos(), c.records())), pastStart.orElse("-"),
              c.peakHeap() >> 20, c.peakRss() >> 20);
        }
      }
    }
    printSlowdown(runs);
  }

  /**
   * A fixed cost per runner: seconds, CPU, peak RSS, and the CPU as milliseconds per 1,000 of the
   * benchmark's records (the share of the CPU column it takes before a record is read).
   */
  private static void printFixedCost(String what, List<Run> runs, long records) {
    System.out.print("\n" + what + ":");
    for (Run r : runs) {
      System.out.printf(" %s %.1f s, %.1f CPU-s (%.1f ms per 1,000 records), peak RSS %d MB;", r.name(), r.seconds(),
          r.child().cpuNanos() / 1e9, perThousand(r.child().cpuNanos(), records), r.child().peakRss() >> 20);
    }
    System.out.println();
  }

  /** CPU milliseconds per 1,000 records. */
  private static double perThousand(long cpuNanos, long records) {
    return cpuNanos / 1e6 / (records / 1000.0);
  }

  /** Time at 20 ms / time at 0 ms per run, when both scenarios ran. */
  private static void printSlowdown(List<Run> runs) {
    StringBuilder line = new StringBuilder();
    for (Run r : runs) {
      if (r.latencyMs() == 0) {
        seconds(runs, r.name(), 20).ifPresent(at20 ->
            line.append(line.length() == 0 ? "" : "; ").append(r.name()).append(String.format(" %.2f", at20 / r.seconds())));
      }
    }
    if (line.length() > 0) {
      System.out.printf("%ntime at 20 ms / time at 0 ms: %s%n", line);
    }
  }

  private static Optional<Double> seconds(List<Run> runs, String name, long latencyMs) {
    return runs.stream().filter(r -> r.name().equals(name) && r.latencyMs() == latencyMs).map(Run::seconds).findFirst();
  }

  /** CPU time of this whole process, all threads. */
  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }
}
