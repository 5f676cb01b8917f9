package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.Timestamps;
import com.example.connector.merge.MergeRule;
import com.example.connector.table.SnapshotSummary;
import com.example.source.ExampleSource;
import com.example.testing.ChildProcess;
import com.example.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The destination tables after several runs with updates, deletes, re-inserts and new rows in
 * between, and a run killed (a real process, dead at a file operation) mid-commit: SCD type 1 tables equal the source's current rows, SCD type 2
 * tables hold exactly the versions the runs observed, the append table holds every event exactly
 * once. Checked against the source itself (read over HTTP), not the connector's bookkeeping.
 */
class ScdTablesTest {
  static final String[] TABLES = {
    "\"source_table\": \"users\"",
    "\"source_table\": \"users\", \"destination_table\": \"users_history\", \"table_configuration\": {\"scd_type\": \"SCD_TYPE_2\"}",
    "\"source_table\": \"orders\"",
    "\"source_table\": \"orders\", \"destination_table\": \"orders_history\", \"table_configuration\": {\"scd_type\": \"SCD_TYPE_2\"}",
    "\"source_table\": \"events\"",
    "\"source_table\": \"products\", \"destination_table\": \"products_history\", \"table_configuration\": {\"scd_type\": \"SCD_TYPE_2\"}",
  };
  /** Every table the spec lands, change feeds included, sorted. */
  private static final List<String> DESTINATIONS = List.of("events", "orders", "orders__changes", "orders_history",
      "orders_history__changes", "products_history", "products_history__changes", "users", "users__changes",
      "users_history", "users_history__changes");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private final List<JsonNode> tombstones = new ArrayList<>();
  private int kills;
  /** Each run's products snapshot (rendered rows) by the run's cap, in microseconds. */
  private final TreeMap<Long, List<String>> snapshots = new TreeMap<>();

  /** Every version of each key the runs could see (the source's rows at each run, and deletes). */
  private final Map<String, Map<String, List<JsonNode>>> observed = new TreeMap<>();

  @Test
  void tablesMatchTheSourceRunAfterRun() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("scd.json", TABLES);
      // Iceberg keeps absolute paths: tables created on crash:// keep their files there, where a killed run's rule sees them.
      String crashRoot = "--outputRoot=crash://" + h.output;

      check(h, source, h.runOk(spec, crashRoot), null);

      write(source, "users", Map.of("user_id", "user_0005", "email", "first@example.com"));
      write(source, "orders", Map.of("order_id", "order_0003", "status", "delivered", "amount", 1.0));
      delete(source, "order_0007");
      write(source, "events", Map.of("event_id", "00000000-0000-4000-8000-00000000f001", "event_type", "click"));
      write(source, "products", Map.of("product_id", "prod_9001", "name", "new", "price", 1.5, "category", "books"));
      clock.advance(Duration.ofSeconds(2));
      check(h, source, h.runOk(spec, crashRoot), null);

      write(source, "orders", Map.of("order_id", "order_0007", "status", "pending", "amount", 2.0));
      write(source, "users", Map.of("user_id", "user_0005", "email", "second@example.com"));
      write(source, "users", Map.of("user_id", "user_9000", "email", "new@example.com"));
      write(source, "events", Map.of("event_id", "00000000-0000-4000-8000-00000000f002", "event_type", "view"));
      clock.advance(Duration.ofSeconds(2));
      // Killed mid-commit (CrashFileSystemTest kills runs mid-write and before their first commit), before its fifth table commit: orders_history's, after its change feed's.
      String killed = kill(h, spec, "rename:.metadata.json:5");
      assertEquals(List.of("events", "orders", "orders__changes", "orders_history__changes"), committedBy(h, killed),
          "the tables committed before the kill");
      IngestMain.Outcome finishing = h.runOk(spec, crashRoot);
      assertEquals(DESTINATIONS, committedBy(h, finishing.plan().runId()), "every table committed by the next run");
      // Each table read on from its own cursors (orders_history from its feed's older one): each change once.
      check(h, source, finishing, null);
      assertEquals(3, h.rows("users_history").stream().filter(r -> r.get("user_id").toString().equals("user_0005")).count());
      assertEquals(2, h.rows("orders_history").stream().filter(r -> r.get("order_id").toString().equals("order_0007")).count());

      // A narrower snapshot: the products it no longer holds are closed.
      clock.advance(Duration.ofSeconds(2));
      String[] narrowed = TABLES.clone();
      narrowed[5] = narrowed[5].replace("\"scd_type\"", "\"category\": \"books\", \"scd_type\"");
      check(h, source, h.runOk(h.spec("scd.json", narrowed), crashRoot), "books");
      // Widened again: the products it closed come back as new versions; the books' versions stay open.
      clock.advance(Duration.ofSeconds(2));
      check(h, source, h.runOk(h.spec("scd.json", TABLES), crashRoot), null);
    }
  }

  @Test
  void overriddenKeysAndSequenceDecideTheRows() throws Exception {
    TestClock clock = TestClock.system();
    // No seeded nulls: a table keyed by a nullable column fails on a row without a value (below).
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).nullRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("overrides.json",
          "\"source_table\": \"users\", \"destination_table\": \"latest_per_status\","
              + " \"table_configuration\": {\"primary_keys\": [\"status\"]}",
          "\"source_table\": \"users\", \"destination_table\": \"by_email\","
              + " \"table_configuration\": {\"sequence_by\": \"email\"}");
      write(source, "users", Map.of("user_id", "user_0001", "email", "zzz@example.com", "status", "active"));
      clock.advance(Duration.ofSeconds(2));
      h.runOk(spec);

      // One row per status: the user updated last among those with it.
      Map<String, JsonNode> latest = new TreeMap<>();
      for (JsonNode user : currentRows(source, "users")) {
        latest.merge(user.get("status").asText("null"), user,
            (a, b) -> micros(a.get("updated_at")) >= micros(b.get("updated_at")) ? a : b);
      }
      assertEquals(rendered(List.copyOf(latest.values())), renderedTable(h.rows("latest_per_status")));

      // A newer write whose email sorts lower is an older version by sequence_by: not applied.
      write(source, "users", Map.of("user_id", "user_0001", "email", "aaa@example.com", "status", "active"));
      clock.advance(Duration.ofSeconds(2));
      h.runOk(spec);
      List<String> emails = h.rows("by_email").stream()
          .filter(r -> r.get("user_id").toString().equals("user_0001")).map(r -> r.get("email").toString()).toList();
      assertEquals(List.of("zzz@example.com"), emails);

      // A user without a status (an upsert leaves out what it does not name): the table keyed by it fails.
      write(source, "users", Map.of("user_id", "user_0002", "email", "b@example.com"));
      clock.advance(Duration.ofSeconds(2));
      assertEquals(1, h.run(spec).exitCode(), h.lastOut);
      assertTrue(h.lastErr.contains("table main.example.latest_per_status: primary key column 'status' is null in a record"),
          h.lastErr);
    }
  }

  /** Runs the pipeline in a child JVM that dies (exit 137, like kill -9) at {@code point}; returns its run id. */
  private String kill(IngestHarness h, Path spec, String point) {
    ChildProcess.Result r = ChildRun.run(
        List.of("--spec=" + spec, "--outputRoot=crash://" + h.output, "--runner=DirectRunner",
            "--retryInitialBackoffMillis=1", "--progressIntervalSeconds=0"),
        Map.of("crash.at", point), dir.resolve("killed-" + (++kills) + ".log"), Duration.ofMinutes(3));
    assertEquals(137, r.exitCode(), r::toString);
    String halt = ChildRun.haltLine(r);
    assertTrue(halt != null && halt.startsWith("crash.at: halting at " + point.split(":")[0]), r::toString);
    Matcher runId = Pattern.compile("(?m)^Run (\\S+): ").matcher(r.output());
    assertTrue(runId.find(), r::toString);
    return runId.group(1);
  }

  /** The destinations (change feeds included) whose current snapshot the run committed. */
  private static List<String> committedBy(IngestHarness h, String runId) {
    return DESTINATIONS.stream()
        .filter(t -> runId.equals(SnapshotSummary.runId(h.table(t).currentSnapshot())))
        .toList();
  }

  private static void write(ExampleSource source, String table, Map<String, ?> record) {
    source.upsert(table, record);
  }

  private void delete(ExampleSource source, String key) {
    JsonNode tombstone = JSON.valueToTree(source.delete("orders", key));
    tombstones.add(tombstone);
    observe("orders", tombstone);
  }

  private void observe(String table, JsonNode version) {
    List<JsonNode> versions = observed.computeIfAbsent(table, t -> new TreeMap<>())
        .computeIfAbsent(version.get(IngestEndToEndTest.key(table)).asText(), k -> new ArrayList<>());
    if (!versions.contains(version)) {
      versions.add(version);
    }
  }

  /**
   * After a run: every table against the source and the versions observed so far.
   *
   * @param category the products filter the run used, if any
   */
  private void check(IngestHarness h, ExampleSource source, IngestMain.Outcome run, String category) throws Exception {
    List<String> products = new ArrayList<>();
    for (JsonNode row : currentRows(source, "products")) {
      if (category == null || category.equals(row.get("category").asText())) {
        products.add(render(row));
      }
    }
    snapshots.put(Timestamps.toMicros(run.plan().cap()), products);
    assertEquals(expectedSnapshotVersions(), renderedTable(h.rows("products_history")), "products_history");
    for (String table : List.of("users", "orders")) {
      List<JsonNode> current = currentRows(source, table);
      current.forEach(row -> observe(table, row)); // nothing is written while a run reads
      assertEquals(rendered(current), renderedTable(h.rows(table)), table + " equals the source");
      assertEquals(expectedVersions(table), renderedTable(h.rows(table + "_history")), table + "_history");
      for (String destination : List.of(table, table + "_history")) {
        assertEquals(expectedChanges(table), feedChanges(h, table, destination), destination + "__changes, each change once");
      }
    }
    assertEquals(rendered(currentRows(source, "events")), renderedTable(h.rows("events")), "events, each exactly once");
  }

  /**
   * SCD type 2 as the observed history says: every version, open until the next one's
   * {@code updated_at}; a delete closes it.
   */
  private List<String> expectedVersions(String table) {
    List<String> out = new ArrayList<>();
    observed.get(table).forEach((key, versions) -> {
      versions.sort((a, b) -> Long.compare(micros(a.get("updated_at")), micros(b.get("updated_at"))));
      for (int i = 0; i < versions.size(); i++) {
        JsonNode v = versions.get(i);
        if (tombstones.contains(v)) {
          continue;
        }
        Long end = i + 1 < versions.size() ? micros(versions.get(i + 1).get("updated_at")) : null;
        out.add(render(v) + "[" + micros(v.get("updated_at")) + "," + end + ")");
      }
    });
    out.sort(null);
    return out;
  }

  /** Every version observed (tombstones included) as "key@updated_at", sorted: what a change feed holds once each. */
  private List<String> expectedChanges(String table) {
    List<String> out = new ArrayList<>();
    observed.get(table).forEach((key, versions) -> versions.forEach(v -> out.add(key + "@" + micros(v.get("updated_at")))));
    out.sort(null);
    return out;
  }

  /** A change feed's rows as "key@updated_at", sorted. */
  private static List<String> feedChanges(IngestHarness h, String table, String destination) {
    List<String> out = new ArrayList<>();
    for (GenericRecord r : h.changes(destination)) {
      out.add(r.get(IngestEndToEndTest.key(table)) + "@" + r.get("updated_at"));
    }
    out.sort(null);
    return out;
  }

  /** A product's version opens at the first snapshot holding it and closes at the first without it. */
  private List<String> expectedSnapshotVersions() {
    List<String> out = new ArrayList<>();
    java.util.Set<String> all = new java.util.TreeSet<>();
    snapshots.values().forEach(all::addAll);
    for (String product : all) {
      Long start = null;
      for (Map.Entry<Long, List<String>> snapshot : snapshots.entrySet()) {
        boolean present = snapshot.getValue().contains(product);
        if (present && start == null) {
          start = snapshot.getKey();
        } else if (!present && start != null) {
          out.add(product + "[" + start + "," + snapshot.getKey() + ")");
          start = null;
        }
      }
      if (start != null) {
        out.add(product + "[" + start + ",null)");
      }
    }
    out.sort(null);
    return out;
  }

  private static long micros(JsonNode timestamp) {
    return Timestamps.toMicros(Timestamps.parse(timestamp.asText()));
  }

  /** The source's current rows, read page by page over HTTP. */
  static List<JsonNode> currentRows(ExampleSource source, String table) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String auth = "Basic " + Base64.getEncoder().encodeToString("u:p".getBytes(StandardCharsets.UTF_8));
    List<JsonNode> rows = new ArrayList<>();
    for (int page = 1; page > 0; ) {
      HttpResponse<String> response = http.send(
          HttpRequest.newBuilder(URI.create(source.baseUrl() + "/tables/" + table + "/records?page=" + page))
              .header("Authorization", auth).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, response.statusCode(), response.body());
      JsonNode body = JSON.readTree(response.body());
      body.get("records").forEach(rows::add);
      page = body.get("next_page").isNull() ? 0 : body.get("next_page").asInt();
    }
    return rows;
  }

  static List<String> rendered(List<JsonNode> rows) {
    return rows.stream().map(ScdTablesTest::render).sorted().toList();
  }

  /** A source row's columns: timestamps as microseconds, numbers as doubles, in column order. */
  private static String render(JsonNode row) {
    StringBuilder b = new StringBuilder();
    row.fields().forEachRemaining(f -> {
      JsonNode v = f.getValue();
      String text = v.isNull() ? "null"
          : f.getKey().equals("updated_at") || f.getKey().equals("created_at") ? Long.toString(micros(v))
          : v.isNumber() ? Double.toString(v.asDouble()) : v.asText();
      b.append(f.getKey()).append('=').append(text).append(';');
    });
    return b.toString();
  }

  /** A table's rows rendered like {@link #render(JsonNode)}, SCD type 2 columns as "[start,end)". */
  static List<String> renderedTable(List<GenericRecord> rows) {
    List<String> out = new ArrayList<>();
    for (GenericRecord r : rows) {
      StringBuilder b = new StringBuilder();
      for (Schema.Field f : r.getSchema().getFields()) {
        String name = f.name();
        if (name.startsWith("_")) {
          continue;
        }
        Object v = r.get(name);
        b.append(name).append('=').append(v instanceof Number n && !(v instanceof Long) ? Double.toString(n.doubleValue()) : v).append(';');
      }
      if (r.getSchema().getField(MergeRule.START_AT) != null) {
        b.append('[').append(r.get(MergeRule.START_AT)).append(',').append(r.get(MergeRule.END_AT)).append(')');
      }
      out.add(b.toString());
    }
    out.sort(null);
    return out;
  }
}
