package com.example.connector.pipeline;

import com.example.bench.HeapGauge;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Page;
import com.example.connector.client.Password;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.source.ExampleSource;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Measures what users meet: the pipeline on the shipped runner configs, with the documented
 * default table options, against a source that answers after 0, 20 or 100 ms per call, next to a
 * plain sequential keyset client against the same source, and prints one table per latency.
 *
 * <pre>
 * mvn -q compile exec:exec -Dexec.executable=java \
 *     -Dexec.args="-Xmx512m -cp %classpath com.example.connector.pipeline.IngestBenchmark --runners=direct,flink --latency-ms=0,20"
 * </pre>
 *
 * <p>(A forked JVM: the embedded Flink cluster cannot load its classes inside {@code exec:java}.)
 * Options: {@code --latency-ms=0,20,100} (the scenarios, default {@code 0,20}),
 * {@code --max-concurrent-requests=N} (the connection's option; default its own default, 8),
 * {@code --runners=direct,flink} (runner-configs/direct and runner-configs/flink-local, found in
 * the working directory or the project's basedir), {@code --TABLE=N} (a table's volume; default
 * the 100,000 metrics, 20,000 events, 10,000 users and orders, 2,000 products).
 *
 * <p>The source is the simulated one, in this process, with no injected faults and its seed
 * anchored so that every record is older than the run; each scenario restarts it with that
 * latency and the same data. The <b>sequential</b> client pages through every table once with the
 * connector's HTTP client and keyset paging ({@code since} = the last cursor seen), no Beam. Each
 * <b>pipeline</b> run is the real main, end to end into Iceberg tables (a Hadoop catalog) under a
 * temporary root.
 * Calls are the requests the source served during the run; peak calls in flight is the
 * pipeline's {@code peak_in_flight} (1 for the sequential client); CPU is the whole process's,
 * source included. Peak heap by {@link HeapGauge}; peak RSS by {@link RssGauge} (VmRSS sampled
 * every 10 ms during the run: the JVM keeps memory an earlier run committed, so it can carry over).
 */
public final class IngestBenchmark {
  private static final List<String> TABLES = List.of("products", "events", "users", "orders", "metrics");
  /** The {@code --runners} names and the shipped runner config each runs with. */
  private static final Map<String, String> RUNNER_CONFIGS = Map.of("direct", "direct", "flink", "flink-local");
  private static final String USAGE =
      "use --latency-ms=0,20,100, --runners=direct,flink, --max-concurrent-requests=N or --TABLE=N (TABLE one of "
          + TABLES + ")";

  /** What the command line asks for: volumes per table, runners (with their configs), latencies. */
  private record Settings(Map<String, Long> rows, Map<String, Path> runners, List<Long> latenciesMs,
      long maxConcurrentRequests) {}

  /** One measured run of one scenario. */
  private record Run(String name, long latencyMs, long records, double seconds, long calls, long peakInFlight,
      long cpuNanos, long peakHeap, long peakRss) {}

  /** What a measured piece of work reports of itself. */
  private record Work(long records, long peakInFlight) {}

  @FunctionalInterface
  private interface Workload {
    Work run() throws Exception;
  }

  private IngestBenchmark() {}

  public static void main(String[] args) throws Exception {
    Settings settings = settings(args);
    // Users and metrics advance one minute per row: anchor the seed so the newest is in the past.
    long minutes = Math.max(settings.rows().get("users"), settings.rows().get("metrics")) + 60;
    Instant baseTime = Instant.now().minus(Duration.ofMinutes(minutes));
    Path work = Files.createTempDirectory("ingest-bench");
    HeapGauge heap = HeapGauge.start();
    RssGauge rss = RssGauge.start();
    List<Run> runs = new ArrayList<>();
    for (long latency : settings.latenciesMs()) {
      ExampleSource.Builder builder = ExampleSource.builder().port(0).errorRate(0).baseTime(baseTime).latencyMs(latency);
      settings.rows().forEach(builder::rows);
      try (ExampleSource source = builder.start()) {
        Path spec = BenchmarkSpec.write(work.resolve(latency + "ms"), source, settings.maxConcurrentRequests(),
            TABLES.stream().map(BenchmarkSpec::table).toList());
        SourceConfig config = new SourceConfig(source.baseUrl(), "bench", Password.inline("bench"), RetryPolicy.DEFAULT);
        runs.add(measure("sequential client", latency, source, heap, rss, () -> new Work(sequential(config), 1)));
        for (Map.Entry<String, Path> runner : settings.runners().entrySet()) {
          runs.add(measure("pipeline, " + runner.getKey(), latency, source, heap, rss,
              () -> pipeline(spec, runner.getValue(), spec.resolveSibling("out-" + runner.getKey()))));
        }
      }
    }
    print(settings, runs);
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

  /** Times one workload, with the source's calls, the process's CPU, and the peaks of heap and RSS. */
  private static Run measure(String name, long latencyMs, ExampleSource source, HeapGauge heap, RssGauge rss,
      Workload workload) throws Exception {
    heap.reset();
    rss.reset();
    long calls = source.requestCount();
    long cpu = cpuNanos();
    long start = System.nanoTime();
    Work done = workload.run();
    Run run = new Run(name, latencyMs, done.records(), (System.nanoTime() - start) / 1e9,
        source.requestCount() - calls, done.peakInFlight(), cpuNanos() - cpu, heap.peakUsed(), rss.peak());
    System.err.println("measured: " + run); // survives a later run that fails
    return run;
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

  /** The real main on a shipped runner config; its records and peak calls in flight from its counters. */
  private static Work pipeline(Path spec, Path runnerConfig, Path outputRoot) {
    String[] args = {"--spec=" + spec, "--runnerConfig=" + runnerConfig, "--outputRoot=" + outputRoot,
        "--progressIntervalSeconds=0"};
    IngestMain.Outcome outcome = IngestMain.run(args, new PrintStream(OutputStream.nullOutputStream()), System.err);
    if (outcome.exitCode() != 0) {
      throw new IllegalStateException("the run with " + runnerConfig + " failed (exit " + outcome.exitCode() + ")");
    }
    long records = outcome.counters().values().stream().mapToLong(c -> c.getOrDefault("records", 0L)).sum();
    long peak = outcome.counters().values().stream().mapToLong(c -> c.getOrDefault("peak_in_flight", 0L)).max().orElse(0);
    return new Work(records, peak);
  }

  private static void print(Settings settings, List<Run> runs) {
    System.out.printf("%nIngest benchmark: %,d records (%s), max_concurrent_requests %d, %d cores, max heap %d MB,"
            + " load average %.1f%n",
        settings.rows().values().stream().mapToLong(Long::longValue).sum(), settings.rows(), settings.maxConcurrentRequests(),
        Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20,
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    System.out.println("ratio = sequential seconds / run seconds (> 1: faster than the sequential client);"
        + " calls = requests the source served; CPU = process CPU time, the in-process source included;"
        + " peak RSS = VmRSS sampled every 10 ms during the run");
    String format = "%-20s %10s %8s %6s %7s %14s %14s %13s %12s%n";
    for (long latency : settings.latenciesMs()) {
      System.out.printf("%n%d ms per call%n", latency);
      System.out.printf(format, "run", "records", "seconds", "ratio", "calls", "peak in flight", "CPU ms/1k rec",
          "peak heap MB", "peak RSS MB");
      double sequential = seconds(runs, "sequential client", latency).orElseThrow();
      for (Run r : runs) {
        if (r.latencyMs() == latency) {
          System.out.printf(format, r.name(), String.format("%,d", r.records()), String.format("%.1f", r.seconds()),
              String.format("%.2f", sequential / r.seconds()), String.format("%,d", r.calls()), r.peakInFlight(),
              String.format("%.1f", r.cpuNanos() / 1e6 / (r.records() / 1000.0)), r.peakHeap() >> 20, r.peakRss() >> 20);
        }
      }
    }
    printSlowdown(runs);
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

  /** CPU time of the whole process (source, client, runner), all threads. */
  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }
}
