package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.Timestamps;
import com.example.source.ExampleSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A continuous run ({@code --streaming=true}) as a detached job on a real Flink 1.19 cluster
 * ({@link FlinkCluster}) of events (append), users (SCD type 1) and orders (SCD type 1 with
 * deletes), while a thread writes to the source, through the job's life on the cluster: the
 * launcher's SIGTERM leaves the job running; a stop with a savepoint (Flink's REST API), writes
 * while no job runs, and a resubmission from that savepoint; then a restore from a savepoint
 * taken before the tables' later commits, whose reads start below what the tables hold. After
 * each, the tables equal the source's rows read over HTTP: each event exactly once, the SCD
 * tables the source's current rows.
 */
class FlinkContinuousIT {
  private static final List<String> TABLES = List.of("events", "users", "orders");
  private static final Pattern RECORDS_PATH = Pattern.compile("^/tables/(\\w+)/records$");
  private static final Duration DEADLINE = Duration.ofMinutes(2);

  @TempDir Path dir;
  private final List<Process> launchers = new ArrayList<>();

  /** A launcher left running by a failure. */
  @AfterEach
  void killLaunchers() {
    launchers.forEach(Process::destroyForcibly);
  }

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void savepointStopAndRestoresNeitherLoseNorDouble() throws Exception {
    String bundled = FlinkCluster.bundledJar();
    long seed = System.nanoTime();
    System.out.println("FlinkContinuousIT: writer seed " + seed);
    long started = System.nanoTime();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start();
        FlinkCluster cluster = FlinkCluster.start(dir)) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString().replaceAll("/$", ""));
      Path spec = h.spec("continuous.json",
          "\"source_table\": \"events\"", "\"source_table\": \"users\"", "\"source_table\": \"orders\"");
      Writer writer = new Writer(source, new Random(seed));
      FlinkRest flink = new FlinkRest(cluster.master());
      List<String> submitArgs = cluster.submitCommand(bundled, List.of("--streaming=true", "--attachedMode=false",
          "--pollIntervalSeconds=1", "--commitIntervalSeconds=2", "--progressIntervalSeconds=5", "--spec=" + spec,
          "--outputRoot=" + h.output));

      // The first job: a savepoint once every table has committed, kept for the last step; then
      // writes while it commits, until the tables equal the source.
      Process first = launch(submitArgs, "launcher-1.log");
      String job1 = flink.awaitNewRunningJob(Set.of());
      phase(started, "first job running");
      await("a first commit of every table", () -> TABLES.stream().allMatch(t -> commitsSince(h.table(t), 0) > 0) ? true : null);
      String early = flink.savepoint(job1, dir.resolve("savepoints"), false);
      phase(started, "first commits; savepoint " + early);
      writeWhileCommitting(writer, h);
      awaitTablesEqualSource(h, source, "the first job");
      phase(started, "first job: tables equal the source");
      // The launcher's SIGTERM is its own: it exits 0 and the job runs on (its committers never see it).
      first.destroy();
      assertTrue(first.waitFor(1, TimeUnit.MINUTES), "the launcher did not exit on SIGTERM");
      assertEquals(0, first.exitValue(), () -> log("launcher-1.log"));
      assertTrue(log("launcher-1.log").contains("The job goes on running on the Flink cluster"), () -> log("launcher-1.log"));
      assertEquals("RUNNING", flink.state(job1));
      String stopped = flink.savepoint(job1, dir.resolve("savepoints"), true);
      flink.awaitState(job1, "FINISHED");
      phase(started, "first job stopped with savepoint " + stopped);

      // Writes while no job runs; the job resubmitted from the stop's savepoint reads them. Its
      // launcher, left running, ends well when the job is stopped with a savepoint.
      writer.write(60);
      Process second = launch(concat(submitArgs, "--savepointPath=" + stopped), "launcher-2.log");
      String job2 = flink.awaitNewRunningJob(Set.of(job1));
      phase(started, "second job running");
      awaitTablesEqualSource(h, source, "the job restored from the stop's savepoint");
      phase(started, "second job: tables equal the source");
      // Where README tells to watch a job: each table's Beam counters on its read operator.
      for (String table : TABLES) {
        await(table + "'s records counter in Flink's metrics", () -> flink.readCounter(job2, table, "records") > 0 ? true : null);
        await(table + "'s commits counter in Flink's metrics", () -> flink.readCounter(job2, table, "commits") > 0 ? true : null);
      }
      flink.savepoint(job2, dir.resolve("savepoints"), true);
      assertTrue(second.waitFor(1, TimeUnit.MINUTES), "the launcher did not end with its job");
      assertEquals(0, second.exitValue(), () -> log("launcher-2.log"));
      assertTrue(log("launcher-2.log").contains("The Flink job has finished (stopped with a savepoint)"),
          () -> log("launcher-2.log"));

      // A restore from the savepoint taken before the tables' later commits: its reads start below
      // the tables' cursors, and the committers drop what the tables hold.
      writer.write(60);
      Map<String, Instant> held = new TreeMap<>();
      TABLES.forEach(t -> held.put(t, Timestamps.parse(h.cursors(t).get("records"))));
      Map<String, Instant> firstSince = new ConcurrentHashMap<>();
      source.setRequestListener((method, path, query) -> {
        Matcher m = RECORDS_PATH.matcher(path);
        if (m.matches() && query != null && query.contains("since=")) {
          firstSince.merge(m.group(1), ProgressLineTest.since(query), (a, b) -> a.isBefore(b) ? a : b);
        }
      });
      Process third = launch(concat(submitArgs, "--savepointPath=" + early), "launcher-3.log");
      String job3 = flink.awaitNewRunningJob(Set.of(job1, job2));
      phase(started, "third job running");
      awaitTablesEqualSource(h, source, "the job restored from the savepoint before the last commits");
      phase(started, "third job: tables equal the source");
      for (String table : TABLES) {
        assertTrue(firstSince.containsKey(table) && firstSince.get(table).isBefore(held.get(table)),
            () -> table + ": the restored job's reads should start below the table's cursor " + held.get(table)
                + ", from its savepoint; they started at " + firstSince.get(table));
      }
      System.out.println("FlinkContinuousIT: the restored job read from " + firstSince + ", the tables held " + held);
      flink.cancel(job3);
      third.destroy();
      System.out.printf("FlinkContinuousIT: %d writes; tables %s; took %.1f s%n",
          writer.writes, rowCounts(h), (System.nanoTime() - started) / 1e9);
    }
  }

  private static void phase(long started, String what) {
    System.out.printf("FlinkContinuousIT: %6.1f s  %s%n", (System.nanoTime() - started) / 1e9, what);
  }

  private String log(String name) {
    try {
      return Files.readString(dir.resolve(name), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return name + ": " + e;
    }
  }

  /** Starts the launcher, its output in {@code log}; it runs until the test stops it. */
  private Process launch(List<String> command, String log) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve(log).toFile()).start();
    launchers.add(p);
    return p;
  }

  private static List<String> concat(List<String> args, String arg) {
    List<String> out = new ArrayList<>(args);
    out.add(arg);
    return out;
  }

  /**
   * Writes from a thread until every table has committed twice since the writes began: the
   * commits read while the source is being written.
   */
  private static void writeWhileCommitting(Writer writer, IngestHarness h) throws InterruptedException {
    long since = System.currentTimeMillis();
    ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor();
    thread.scheduleWithFixedDelay(() -> writer.write(1), 0, 40, TimeUnit.MILLISECONDS);
    try {
      await("two commits of every table while the source is written", () ->
          TABLES.stream().allMatch(t -> commitsSince(h.table(t), since) >= 2) ? true : null);
    } finally {
      thread.shutdown();
      assertTrue(thread.awaitTermination(30, TimeUnit.SECONDS));
    }
  }

  private static long commitsSince(Table table, long millis) {
    if (table == null) {
      return 0;
    }
    table.refresh();
    long n = 0;
    for (Snapshot s : table.snapshots()) {
      n += s.timestampMillis() >= millis ? 1 : 0;
    }
    return n;
  }

  /** Waits until every table holds the source's rows (read over HTTP), each exactly once. */
  private static void awaitTablesEqualSource(IngestHarness h, ExampleSource source, String when) throws Exception {
    Map<String, List<String>> expected = new TreeMap<>();
    for (String table : TABLES) {
      expected.put(table, ScdTablesTest.rendered(ScdTablesTest.currentRows(source, table)));
    }
    Map<String, List<String>> last = await(when + ": the tables equal the source", () -> {
      Map<String, List<String>> tables = tables(h);
      return tables.equals(expected) ? tables : null;
    }, () -> tables(h));
    assertEquals(expected, last, when);
  }

  private static Map<String, List<String>> tables(IngestHarness h) {
    Map<String, List<String>> out = new TreeMap<>();
    TABLES.forEach(t -> out.put(t, ScdTablesTest.renderedTable(h.rows(t))));
    return out;
  }

  private static Map<String, Integer> rowCounts(IngestHarness h) {
    Map<String, Integer> out = new TreeMap<>();
    TABLES.forEach(t -> out.put(t, h.rows(t).size()));
    return out;
  }

  private static <T> T await(String what, Supplier<T> condition) throws InterruptedException {
    T result = await(what, condition, () -> null);
    assertTrue(result != null, () -> "not within " + DEADLINE + ": " + what);
    return result;
  }

  /** Polls {@code condition} until it returns non-null; at the deadline, {@code last}'s answer. */
  private static <T> T await(String what, Supplier<T> condition, Supplier<T> last) throws InterruptedException {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (System.nanoTime() < deadline) {
      T result = condition.get();
      if (result != null) {
        return result;
      }
      Thread.sleep(250); // a poll of the tables, the source or the JobManager
    }
    System.out.println("FlinkContinuousIT: not within " + DEADLINE + ": " + what);
    return last.get();
  }

  /**
   * Seeded writes to the three tables, as a source's users make them: new events; upserts of
   * users and orders, new keys among them; deletes of live orders, some later written again.
   */
  private static final class Writer {
    private final ExampleSource source;
    private final Random random;
    private final Set<String> liveOrders = new HashSet<>();
    private int writes;

    Writer(ExampleSource source, Random random) {
      this.source = source;
      this.random = random;
      for (int i = 0; i < 103; i++) {
        liveOrders.add(String.format("order_%04d", i)); // the seed's orders
      }
    }

    void write(int count) {
      for (int i = 0; i < count; i++) {
        int n = writes++;
        int kind = random.nextInt(10);
        if (kind < 4) {
          source.upsert("events", Map.of("event_id", String.format("00000000-0000-4000-8000-f%011x", n),
              "event_type", random.nextBoolean() ? "click" : "view"));
        } else if (kind < 7) {
          source.upsert("users", Map.of("user_id", String.format("user_%04d", random.nextInt(45)),
              "email", "w" + n + "@example.com"));
        } else if (kind < 9 || liveOrders.isEmpty()) {
          String order = String.format("order_%04d", random.nextInt(115));
          source.upsert("orders", Map.of("order_id", order, "status", "w" + n, "amount", n + 0.5));
          liveOrders.add(order);
        } else {
          List<String> live = new ArrayList<>(liveOrders);
          live.sort(null);
          String order = live.get(random.nextInt(live.size()));
          source.delete("orders", order);
          liveOrders.remove(order);
        }
      }
    }
  }

  /** The JobManager's REST API: the calls the README documents for a continuous job. */
  private static final class FlinkRest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private final String base;

    FlinkRest(String master) {
      this.base = "http://" + master;
    }

    private JsonNode call(String method, String path, String body) {
      try {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
        assertTrue(response.statusCode() / 100 == 2, () -> method + " " + path + ": " + response.statusCode() + " " + response.body());
        return JSON.readTree(response.body().isEmpty() ? "{}" : response.body());
      } catch (IOException e) {
        throw new AssertionError(method + " " + path + ": " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    /** The id of a job not in {@code known} once it is RUNNING (GET /jobs/overview). */
    String awaitNewRunningJob(Set<String> known) throws InterruptedException {
      return await("a new job RUNNING", () -> {
        for (JsonNode job : call("GET", "/jobs/overview", null).get("jobs")) {
          if (!known.contains(job.get("jid").asText()) && job.get("state").asText().equals("RUNNING")) {
            return job.get("jid").asText();
          }
        }
        return null;
      });
    }

    String state(String job) {
      return call("GET", "/jobs/" + job, null).get("state").asText();
    }

    void awaitState(String job, String state) throws InterruptedException {
      await("job " + job + " " + state, () -> state(job).equals(state) ? true : null);
    }

    /**
     * A savepoint of the job in {@code target}, with the job stopped ({@code POST /jobs/JOB/stop},
     * not drained) or running on ({@code POST /jobs/JOB/savepoints}); its path once the trigger
     * has completed.
     */
    String savepoint(String job, Path target, boolean stop) throws InterruptedException {
      String request = stop
          ? call("POST", "/jobs/" + job + "/stop",
              "{\"targetDirectory\": \"" + target.toUri() + "\", \"drain\": false}").get("request-id").asText()
          : call("POST", "/jobs/" + job + "/savepoints",
              "{\"target-directory\": \"" + target.toUri() + "\", \"cancel-job\": false}").get("request-id").asText();
      JsonNode done = await("savepoint " + request + " of job " + job, () -> {
        JsonNode status = call("GET", "/jobs/" + job + "/savepoints/" + request, null);
        return status.get("status").get("id").asText().equals("COMPLETED") ? status.get("operation") : null;
      });
      assertTrue(done.has("location"), () -> "savepoint of job " + job + " failed: " + done);
      return done.get("location").asText();
    }

    /**
     * The sum over subtasks of a table's Beam counter on the first of its vertices that reports it
     * (the read's "main.example.TABLE/Follow feeds/..." for records, the committer's for commits),
     * whose metric id ends with ".main_example_TABLE_COUNTER"; 0 while Flink has not reported it yet.
     */
    long readCounter(String job, String table, String counter) {
      for (JsonNode vertex : call("GET", "/jobs/" + job, null).get("vertices")) {
        String name = vertex.get("name").asText();
        if (!name.contains("main.example." + table + "/")) {
          continue;
        }
        String metrics = "/jobs/" + job + "/vertices/" + vertex.get("id").asText() + "/subtasks/metrics";
        for (JsonNode metric : call("GET", metrics, null)) {
          String id = metric.get("id").asText();
          if (id.endsWith(".main_example_" + table + "_" + counter)) {
            JsonNode sum = call("GET", metrics + "?agg=sum&get=" + URLEncoder.encode(id, StandardCharsets.UTF_8), null);
            return sum.get(0).get("sum").asLong();
          }
        }
      }
      return 0;
    }

    /** Cancels the job (PATCH /jobs/JOB?mode=cancel) and waits until it is CANCELED. */
    void cancel(String job) throws InterruptedException {
      call("PATCH", "/jobs/" + job + "?mode=cancel", null);
      awaitState(job, "CANCELED");
    }
  }
}
