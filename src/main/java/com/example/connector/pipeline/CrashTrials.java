package com.example.connector.pipeline;

import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Page;
import com.example.connector.client.Password;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.connector.table.CatalogConfig;
import com.example.connector.table.SnapshotSummary;
import com.example.source.ExampleSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;

/**
 * Issue 13's crash target (0 rows lost or doubled across 10 {@code kill -9} trials and 2
 * concurrent runs), on real processes: writes to the simulated source, then runs {@link IngestMain}
 * in a child JVM and kills it with SIGKILL after a random delay; repeats {@code --trials} times;
 * then starts two runs at once on the same output root; then one normal run, and checks every
 * table against the source.
 *
 * <pre>
 * mvn -q compile exec:exec -Dexec.executable=java \
 *     -Dexec.args="-cp %classpath com.example.connector.pipeline.CrashTrials --trials=10"
 * </pre>
 *
 * <p>Options: {@code --trials=N} (default 10), {@code --seed=S} (delays and writes, default 1),
 * {@code --rows=N} (seed rows of users, orders and events each, default 5,000). A delay is uniform
 * between 0 and the time an unkilled first run took (measured once, into an output root of its
 * own); commits take a small part of a run, so most kills land before any (the {@code crash://}
 * tests aim at the commit points). Per trial it prints whether the run had ended by itself, and
 * how many tables the killed run committed. The check: {@code users} and {@code orders} (SCD type
 * 1) equal the source's rows column by column; lost is a source row not in the table as it is,
 * extra a table row beyond them (a copy, a stale version, a deleted order); {@code events}
 * (append) holds each source event once; a change feed holds the latest version of every key (a
 * row, or the tombstone of an order deleted here) and no row twice (same key, {@code updated_at}
 * and {@code _operation}). Exits 1 if anything is lost, extra or doubled, a run failed by itself,
 * or a concurrent run failed otherwise than naming a table and saying to run again.
 */
public final class CrashTrials {
  private static final List<String> TABLES = List.of("users", "orders", "events");
  private static final Map<String, String> KEYS = Map.of("users", "user_id", "orders", "order_id");
  /** The destinations in the order a run commits them: a change feed before its table. */
  private static final List<String> COMMITTED = List.of("users__changes", "users", "orders__changes", "orders", "events");
  private static final int PAGE_SIZE = 25;
  private static final Duration RUN_TIMEOUT = Duration.ofMinutes(5);

  /** One killed run: the delay, whether it had ended by then, its exit code (137: killed), the tables it committed. */
  private record Trial(int number, long delayMs, boolean exitedBeforeKill, int exitCode, int committed) {}

  /** A table checked against the source, with a few of the rows that differ. */
  private record Check(String table, long expected, long found, long lost, long extra, List<String> examples) {}

  private final ExampleSource source;
  private final ExampleClient client;
  private final Path work;
  private final Path spec;
  private final Random random;
  /** What this command wrote: the user and order keys live now, the orders it deleted (key: tombstone's micros). */
  private final List<String> users;
  private final List<String> orders;
  private final Map<String, Long> deletedOrders = new TreeMap<>();
  private long serial;
  private Instant lastWrite = Instant.EPOCH;

  private CrashTrials(ExampleSource source, ExampleClient client, Path work, Random random) throws IOException {
    this.source = source;
    this.client = client;
    this.work = work;
    // Users and orders SCD type 1 (with change feeds), events append.
    String scd = ", \"table_configuration\": {\"scd_type\": \"SCD_TYPE_1\"}";
    this.spec = BenchmarkSpec.write(work, source, SourceConfig.DEFAULT_MAX_CONCURRENT_REQUESTS,
        List.of(BenchmarkSpec.table("users") + scd, BenchmarkSpec.table("orders") + scd, BenchmarkSpec.table("events")));
    this.random = random;
    this.users = keys("users");
    this.orders = keys("orders");
  }

  public static void main(String[] args) throws Exception {
    int trials = 10;
    long seed = 1;
    long rows = 5_000;
    for (String arg : args) {
      String[] kv = arg.replaceFirst("^--", "").split("=", 2);
      switch (kv[0]) {
        case "trials" -> trials = Integer.parseInt(kv[1]);
        case "seed" -> seed = Long.parseLong(kv[1]);
        case "rows" -> rows = Long.parseLong(kv[1]);
        default -> throw new IllegalArgumentException("unknown option '" + arg + "'; use --trials=N, --seed=S, --rows=N");
      }
    }
    long started = System.nanoTime();
    // Users advance one minute per seed row: anchor the seed so that the newest is in the past.
    ExampleSource.Builder builder = ExampleSource.builder().port(0).errorRate(0)
        .baseTime(Instant.now().minus(Duration.ofMinutes(rows + 60))).rows("products", 0).rows("metrics", 0);
    for (String table : TABLES) {
      builder.rows(table, rows).pageSize(table, PAGE_SIZE);
    }
    boolean wrong;
    try (ExampleSource source = builder.start(); ExampleClient client = ExampleClient.create(
        new SourceConfig(source.baseUrl(), "trials", Password.inline("trials"), RetryPolicy.DEFAULT))) {
      CrashTrials t = new CrashTrials(source, client, Files.createTempDirectory("crash-trials"), new Random(seed));
      wrong = t.run(trials, rows, seed, started);
    }
    System.exit(wrong ? 1 : 0);
  }

  /** The trials, the concurrent runs, the final run and its check, printed; whether anything was wrong. */
  private boolean run(int trials, long rows, long seed, long started) throws Exception {
    long unkilledMs = System.currentTimeMillis();
    runToEnd(work.resolve("measured-output"), work.resolve("measured.log"));
    unkilledMs = System.currentTimeMillis() - unkilledMs;
    Path output = work.resolve("output");

    List<Trial> killed = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (int i = 1; i <= trials; i++) {
      writeBatch();
      long delay = (long) (random.nextDouble() * unkilledMs);
      Path log = work.resolve("trial-" + i + ".log");
      Process run = start(output, log);
      boolean exited = run.waitFor(delay, TimeUnit.MILLISECONDS);
      run.destroyForcibly(); // SIGKILL on Linux; nothing if it already ended
      Trial trial = new Trial(i, delay, exited, finish(run, log), committedBy(output, log));
      killed.add(trial);
      System.err.println("done: " + trial);
      if (exited && trial.exitCode() != 0) {
        problems.add("trial " + i + "'s run failed on its own (exit " + trial.exitCode() + "), see " + log);
      }
    }

    writeBatch();
    Path[] logs = {work.resolve("concurrent-1.log"), work.resolve("concurrent-2.log")};
    Process first = start(output, logs[0]);
    Process second = start(output, logs[1]);
    int[] concurrent = {finish(first, logs[0]), finish(second, logs[1])};
    for (int i = 0; i < 2; i++) {
      boolean toldToRunAgain = Files.readString(logs[i]).matches("(?s).*table main\\.example\\.\\w+ .*run again.*");
      if (concurrent[i] != 0 && !(concurrent[i] == 1 && toldToRunAgain)) {
        problems.add("concurrent run " + (i + 1) + " failed otherwise than naming a table and saying to run again"
            + " (exit " + concurrent[i] + "), see " + logs[i]);
      }
    }

    // The final run's cap is the source's clock in whole seconds: let it pass the last write.
    Thread.sleep(Math.max(0, Duration.between(Instant.now(), lastWrite.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1)).toMillis()));
    runToEnd(output, work.resolve("final.log"));
    List<Check> checks = check(CatalogConfig.hadoop(output.toString()).load());

    System.out.printf("%nCrash trials: %d runs killed with SIGKILL (seed %d), 2 concurrent runs, 1 final run;"
        + " source: users, orders, events %,d rows each, pages of %d; an unkilled first run took %.1f s%n",
        trials, seed, rows, PAGE_SIZE, unkilledMs / 1e3);
    String trialFormat = "%-6s %14s %24s %6s %17s%n";
    System.out.printf(trialFormat, "trial", "kill delay ms", "exited before the kill", "exit", "tables committed");
    killed.forEach(t -> System.out.printf(trialFormat, t.number(), t.delayMs(), t.exitedBeforeKill() ? "yes" : "no",
        t.exitCode(), t.committed() + " of " + COMMITTED.size()));
    System.out.printf("%nconcurrent runs: exit %d and exit %d%n", concurrent[0], concurrent[1]);
    problems.forEach(p -> System.out.println("  " + p));
    System.out.println("\nafter the final run (a change feed's expected rows: the latest version of every key):");
    String checkFormat = "%-16s %10s %10s %6s %15s%n";
    System.out.printf(checkFormat, "table", "expected", "found", "lost", "doubled/extra");
    for (Check c : checks) {
      System.out.printf(checkFormat, c.table(), String.format("%,d", c.expected()), String.format("%,d", c.found()), c.lost(), c.extra());
      c.examples().forEach(e -> System.out.println("  " + e));
    }
    boolean wrong = !problems.isEmpty() || checks.stream().anyMatch(c -> c.lost() > 0 || c.extra() > 0);
    System.out.printf("%n%s in %.0f s; logs under %s%n", wrong ? "FAILED" : "nothing lost or doubled",
        (System.nanoTime() - started) / 1e9, work);
    return wrong;
  }

  /** Updates of existing users and orders, new users and orders, deleted orders, new events. */
  private void writeBatch() {
    for (int i = 0; i < 20; i++) {
      serial++;
      source.upsert("users", Map.of("user_id", pick(users), "email", "u" + serial + "@example.com",
          "status", random.nextBoolean() ? "active" : "inactive"));
      source.upsert("orders", Map.of("order_id", pick(orders), "user_id", pick(users),
          "amount", random.nextInt(100_000) / 100.0, "status", "shipped"));
      if (i % 4 == 0) {
        users.add("user_new_" + serial);
        source.upsert("users", Map.of("user_id", "user_new_" + serial, "email", "new" + serial + "@example.com"));
        orders.add("order_new_" + serial);
        source.upsert("orders", Map.of("order_id", "order_new_" + serial, "amount", 1.0, "status", "created"));
      }
      if (i % 2 == 0) {
        String key = orders.remove(random.nextInt(orders.size()));
        deletedOrders.put(key, Timestamps.parseMicros(source.delete("orders", key).get("updated_at").toString()));
      }
      source.upsert("events", Map.of("event_id", new UUID(0xC4A5L, serial).toString(), "event_type", "trial"));
    }
    lastWrite = Instant.now(); // the source stamps its writes with this JVM's clock
  }

  private String pick(List<String> keys) {
    return keys.get(random.nextInt(keys.size()));
  }

  /** {@code java -cp <this classpath> IngestMain ...} on the DirectRunner, its output in {@code log}. */
  private Process start(Path output, Path log) throws IOException {
    return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
        "-cp", System.getProperty("java.class.path"), IngestMain.class.getName(), "--spec=" + spec,
        "--outputRoot=" + output, "--runner=DirectRunner", "--progressIntervalSeconds=0")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /** Waits for a run's end; its exit code. */
  private static int finish(Process run, Path log) throws InterruptedException {
    if (!run.waitFor(RUN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      run.destroyForcibly();
      throw new IllegalStateException("a run did not end within " + RUN_TIMEOUT + ", see " + log);
    }
    return run.exitValue();
  }

  /** A run that must succeed. */
  private void runToEnd(Path output, Path log) throws IOException, InterruptedException {
    int exit = finish(start(output, log), log);
    if (exit != 0) {
      throw new IllegalStateException("an unkilled run failed (exit " + exit + "), see " + log);
    }
  }

  /** How many destinations' current snapshot the run whose output is in {@code log} committed. */
  private static int committedBy(Path output, Path log) throws IOException {
    Matcher runId = Pattern.compile("(?m)^Run (\\S+): ").matcher(Files.readString(log));
    Catalog catalog = CatalogConfig.hadoop(output.toString()).load();
    return runId.find() ? (int) COMMITTED.stream().map(t -> TableIdentifier.of("main", "example", t))
        .filter(id -> catalog.tableExists(id)
            && runId.group(1).equals(SnapshotSummary.runId(catalog.loadTable(id).currentSnapshot())))
        .count() : 0;
  }

  /** Every row of a source table, page by page (nothing writes while this reads). */
  private List<ObjectNode> sourceRows(String table) {
    List<ObjectNode> rows = new ArrayList<>();
    for (Integer page = 1; page != null; ) {
      Page p = client.records(table, Map.of("page", page.toString()));
      rows.addAll(p.records());
      page = p.records().isEmpty() ? null : p.nextPage();
    }
    return rows;
  }

  private List<String> keys(String table) {
    return new ArrayList<>(sourceRows(table).stream().map(r -> r.get(KEYS.get(table)).asText()).toList());
  }

  private List<Check> check(Catalog catalog) throws IOException {
    List<Check> checks = new ArrayList<>();
    for (String name : TABLES) {
      Table table = catalog.loadTable(TableIdentifier.of("main", "example", name));
      List<Types.NestedField> columns = table.schema().columns().stream().filter(c -> !c.name().startsWith("_")).toList();
      List<ObjectNode> current = sourceRows(name);
      List<String> expected = current.stream().map(r -> render(columns, c -> fromSource(c, r))).toList();
      List<String> found = read(table).stream().map(r -> render(columns, c -> fromTable(r.getField(c.name())))).toList();
      checks.add(compare(name, expected, found));
      if (name.equals("events")) {
        continue;
      }
      // The latest version of every key: the final run read it, so the feed must hold it.
      List<String> latest = new ArrayList<>(current.stream()
          .map(r -> change(r.get(KEYS.get(name)).asText(), Timestamps.parseMicros(r.get("updated_at").asText()), "upsert")).toList());
      if (name.equals("orders")) {
        deletedOrders.forEach((key, micros) -> latest.add(change(key, micros, "delete")));
      }
      Table feed = catalog.loadTable(TableIdentifier.of("main", "example", name + "__changes"));
      List<String> rows = read(feed).stream().map(r -> change(String.valueOf(r.getField(KEYS.get(name))),
          Timestamps.toMicros(((OffsetDateTime) r.getField("updated_at")).toInstant()), String.valueOf(r.getField("_operation")))).toList();
      Set<String> distinct = new HashSet<>(rows);
      List<String> lost = latest.stream().filter(c -> !distinct.contains(c)).toList();
      List<String> examples = new ArrayList<>(lost.stream().limit(3).map(c -> "lost " + c).toList());
      Set<String> seen = new HashSet<>();
      rows.stream().filter(c -> !seen.add(c)).limit(3).forEach(c -> examples.add("twice " + c));
      checks.add(new Check(name + "__changes", latest.size(), rows.size(), lost.size(), rows.size() - distinct.size(), examples));
    }
    return checks;
  }

  private static String change(String key, long updatedAtMicros, String operation) {
    return key + "@" + updatedAtMicros + "/" + operation;
  }

  /** Lost: expected rows the table lacks; extra: the table's rows beyond the expected ones (copies included). */
  private static Check compare(String table, List<String> expected, List<String> found) {
    Map<String, Integer> balance = new HashMap<>();
    expected.forEach(r -> balance.merge(r, 1, Integer::sum));
    found.forEach(r -> balance.merge(r, -1, Integer::sum));
    List<String> examples = balance.entrySet().stream().filter(e -> e.getValue() != 0).limit(3)
        .map(e -> (e.getValue() > 0 ? "lost " : "extra ") + e.getKey()).toList();
    return new Check(table, expected.size(), found.size(), balance.values().stream().filter(n -> n > 0).mapToLong(n -> n).sum(),
        -balance.values().stream().filter(n -> n < 0).mapToLong(n -> n).sum(), examples);
  }

  private static List<Record> read(Table table) throws IOException {
    List<Record> rows = new ArrayList<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      records.forEach(rows::add);
    }
    return rows;
  }

  /** A row as {@code column=value;...}: timestamps in microseconds, numbers as doubles. */
  private static String render(List<Types.NestedField> columns, java.util.function.Function<Types.NestedField, String> value) {
    StringBuilder b = new StringBuilder();
    columns.forEach(c -> b.append(c.name()).append('=').append(value.apply(c)).append(';'));
    return b.toString();
  }

  private static String fromSource(Types.NestedField column, JsonNode row) {
    JsonNode v = row.get(column.name());
    if (v == null || v.isNull()) {
      return "null";
    }
    return switch (column.type().typeId()) {
      case TIMESTAMP -> Long.toString(Timestamps.parseMicros(v.asText()));
      case DOUBLE, LONG -> Double.toString(v.asDouble());
      default -> v.asText();
    };
  }

  private static String fromTable(Object v) {
    return v == null ? "null" : v instanceof OffsetDateTime t ? Long.toString(Timestamps.toMicros(t.toInstant()))
        : v instanceof Number n ? Double.toString(n.doubleValue()) : v.toString();
  }
}
