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
import java.io.IOException;
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

/**
 * Measures how fast the pipeline drains a source against the ceiling of a plain sequential
 * client, in one run, and prints one table.
 *
 * <pre>
 * mvn -q compile exec:exec -Dexec.executable=java \
 *     -Dexec.args="-Xmx512m -cp %classpath com.example.connector.pipeline.IngestBenchmark --runners=direct,flink"
 * </pre>
 *
 * <p>(A forked JVM: the embedded Flink cluster cannot load its classes inside {@code exec:java}.)
 * {@code --TABLE=N} sets a table's volume (default: 1,000,000 metrics, 200,000 events, 100,000
 * users and orders, 20,000 products).
 *
 * <p>The source is the simulated one, in this process, with no injected faults and its seed
 * anchored so that every record is older than the run. The <b>baseline</b> pages through every
 * table once with the connector's HTTP client and keyset paging ({@code since} = the last cursor
 * seen), no Beam. Each <b>pipeline</b> run is the real main, end to end into Parquet under a
 * temporary root. Heap, by {@link HeapGauge}: peak heap is the largest heap occupancy sampled
 * every 10 ms during that run: what the heap held, garbage included, so it follows the
 * collector's sizing as much as the pipeline. Live heap is the largest heap occupancy right after
 * a collection during that run: what survived, which with G1 includes old garbage not yet marked.
 * RSS is the process's high-water mark so far (it includes everything before).
 */
public final class IngestBenchmark {
  private static final List<String> TABLES = List.of("products", "events", "users", "orders", "metrics");

  private IngestBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, Long> rows = new LinkedHashMap<>(Map.of(
        "metrics", 1_000_000L, "events", 200_000L, "users", 100_000L, "orders", 100_000L, "products", 20_000L));
    List<String> runners = List.of("direct", "flink");
    for (String arg : args) {
      String[] kv = arg.replaceFirst("^--", "").split("=", 2);
      if (kv.length != 2) {
        throw new IllegalArgumentException("expected --name=value, got " + arg);
      }
      if (kv[0].equals("runners")) {
        runners = List.of(kv[1].split(","));
      } else if (rows.containsKey(kv[0])) {
        rows.put(kv[0], Long.parseLong(kv[1]));
      } else {
        throw new IllegalArgumentException("unknown option " + arg + "; use --TABLE=N or --runners=direct,flink");
      }
    }
    long total = rows.values().stream().mapToLong(Long::longValue).sum();
    // Users and metrics advance one minute per row: anchor the seed so the newest is in the past.
    long minutes = Math.max(rows.get("users"), rows.get("metrics")) + 60;
    ExampleSource.Builder builder = ExampleSource.builder().port(0).errorRate(0)
        .baseTime(Instant.now().minus(Duration.ofMinutes(minutes)));
    rows.forEach(builder::rows);

    HeapGauge heap = HeapGauge.start();
    List<String[]> table = new ArrayList<>();
    try (ExampleSource source = builder.start()) {
      SourceConfig config = new SourceConfig(source.baseUrl(), "bench", Password.inline("bench"), RetryPolicy.DEFAULT);
      heap.reset();
      long cpu0 = cpuNanos();
      long t0 = System.nanoTime();
      long read = baseline(config);
      double baselineSeconds = (System.nanoTime() - t0) / 1e9;
      double baselineRate = read / baselineSeconds;
      table.add(row("baseline (sequential client)", read, baselineSeconds, baselineRate, 1.0, cpuNanos() - cpu0, heap));

      Path work = Files.createTempDirectory("ingest-bench");
      Path spec = work.resolve("bench.json");
      Files.createDirectories(work.resolve("connections"));
      Files.writeString(work.resolve("connections/bench.json"),
          "{\"username\": \"bench\", \"password\": \"bench\", \"base_url\": \"" + source.baseUrl() + "\","
              + " \"externalOptionsAllowList\": \"max_records_per_batch,window_seconds\"}");
      Files.writeString(spec, "{\"pipeline_spec\": {\"connection_name\": \"bench\", \"object\": ["
          + "{\"table\": {\"source_table\": \"products\"}},"
          + "{\"table\": {\"source_table\": \"events\", \"table_configuration\": {\"max_records_per_batch\": \"5000\"}}},"
          + "{\"table\": {\"source_table\": \"users\", \"table_configuration\": {\"max_records_per_batch\": \"5000\"}}},"
          + "{\"table\": {\"source_table\": \"orders\", \"table_configuration\": {\"max_records_per_batch\": \"5000\"}}},"
          + "{\"table\": {\"source_table\": \"metrics\", \"table_configuration\": {\"max_records_per_batch\": \"5000\", \"window_seconds\": \"86400\"}}}]}}");
      for (String runner : runners) {
        List<String> runArgs = new ArrayList<>(List.of("--spec=" + spec, "--outputRoot=" + work.resolve("out-" + runner),
            "--progressIntervalSeconds=0"));
        runArgs.addAll(runner.equals("flink")
            ? List.of("--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=" + Runtime.getRuntime().availableProcessors())
            : List.of("--runner=DirectRunner"));
        heap.reset();
        long cpuStart = cpuNanos();
        long start = System.nanoTime();
        IngestMain.Outcome outcome = IngestMain.run(runArgs.toArray(String[]::new), silent(), System.err);
        double seconds = (System.nanoTime() - start) / 1e9;
        if (outcome.exitCode() != 0) {
          throw new IllegalStateException("the " + runner + " run failed");
        }
        long records = outcome.counters().values().stream().mapToLong(c -> c.getOrDefault("records", 0L)).sum();
        table.add(row("pipeline, " + runner, records, seconds, records / seconds, records / seconds / baselineRate,
            cpuNanos() - cpuStart, heap));
      }
    }
    System.out.printf("%nIngest benchmark: %,d records (%s), %d cores, max heap %d MB, load average %.1f%n",
        total, rows, Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20,
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    String format = "%-30s %10s %8s %10s %8s %13s %8s %13s %13s %7s%n";
    System.out.printf(format, "run", "records", "seconds", "records/s", "CPU s", "records/CPU s", "ratio",
        "peak heap MB", "live heap MB", "RSS MB");
    for (String[] r : table) {
      System.out.printf(format, (Object[]) r);
    }
  }

  /** Every table once, sequentially, keyset-paged: the ceiling of one client on this source. */
  static long baseline(SourceConfig config) {
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

  private static String[] row(
      String name, long records, double seconds, double rate, double ratio, long cpu, HeapGauge heap) {
    String[] row = new String[] {
      name, String.format("%,d", records), String.format("%.1f", seconds), String.format("%,.0f", rate),
      String.format("%.1f", cpu / 1e9), String.format("%,.0f", records / (cpu / 1e9)),
      String.format("%.2f", ratio), Long.toString(heap.peakUsed() >> 20), Long.toString(heap.peakLive() >> 20),
      Long.toString(rss() >> 20)
    };
    System.err.println("measured: " + String.join(" | ", row)); // survives a later run that fails
    return row;
  }

  /** CPU time of the whole process (source, client, runner), all threads. */
  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** The process's peak resident set (VmHWM), 0 where /proc is not there. */
  private static long rss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException e) {
      // not Linux: report 0
    }
    return 0;
  }

  private static PrintStream silent() {
    return new PrintStream(OutputStream.nullOutputStream());
  }
}
