package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.example.connector.catalog.Timestamps;
import com.example.connector.table.CatalogConfig;
import com.example.source.ExampleSource;
import com.example.testing.IcebergFiles;
import com.example.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline with a JDBC catalog (SQLite) instead of the default Hadoop one: the tables
 * land and are found through the catalog, a second run reads on from the committed cursors, and
 * the catalog's password from the properties file is never printed.
 */
class JdbcCatalogTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PASSWORD = "secret-catalog-pw";

  @TempDir Path dir;

  @Test
  void tablesLandInAJdbcCatalogRunAfterRun() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("jdbc.json", "\"source_table\": \"users\"", "\"source_table\": \"events\"");
      Path properties = h.write("catalog.properties", "jdbc.user=u\njdbc.password=" + PASSWORD + "\n");
      // WAL: Iceberg's JdbcCatalog leaves a read open on its first connection (an unclosed
      // ResultSet), which in SQLite's default journal mode blocks every other connection's writes.
      String uri = "jdbc:sqlite:" + dir.resolve("catalog.db") + "?journal_mode=WAL";
      String warehouse = dir.resolve("wh").toString();
      String[] options = {"--catalogType=jdbc", "--catalogUri=" + uri, "--warehouse=" + warehouse,
          "--catalogPropertiesFile=" + properties};
      Catalog catalog = CatalogConfig.of("example", "jdbc", null, uri, warehouse, warehouse,
          Map.of("jdbc.user", "u", "jdbc.password", PASSWORD)).load();

      h.runOk(spec, options);
      assertNoPassword(h);
      assertEquals(JdbcCatalog.class, catalog.getClass());
      assertEquals(sourceUsers(source), tableUsers(catalog));
      assertEquals(sourceEvents(source), tableEvents(catalog));
      assertFalse(Files.exists(h.output.resolve("main")), "nothing in the Hadoop warehouse");

      source.upsert("users", Map.of("user_id", "user_0003", "email", "changed@example.com"));
      source.upsert("users", Map.of("user_id", "user_9001", "email", "new@example.com"));
      source.upsert("events", Map.of("event_id", "00000000-0000-4000-8000-00000000f001", "event_type", "click"));
      clock.advance(Duration.ofSeconds(2));
      IngestMain.Outcome second = h.runOk(spec, options);
      assertNoPassword(h);
      assertEquals(sourceUsers(source), tableUsers(catalog));
      assertEquals(sourceEvents(source), tableEvents(catalog));
      String run = second.plan().runId();
      assertEquals(List.of("user_0003", "user_9001"), keysOfRun(catalog, "users__changes", "user_id", run),
          "the second run read only what was written since the first");
      assertEquals(List.of("00000000-0000-4000-8000-00000000f001"), keysOfRun(catalog, "events", "event_id", run));
    }
  }

  private static void assertNoPassword(IngestHarness h) {
    assertFalse(h.lastOut.contains(PASSWORD), h.lastOut);
    assertFalse(h.lastErr.contains(PASSWORD), h.lastErr);
  }

  /** Users by id: email, display name, status, updated_at (microseconds), as the source has them. */
  private static Map<String, String> sourceUsers(ExampleSource source) throws Exception {
    Map<String, String> users = new TreeMap<>();
    for (JsonNode u : ScdTablesTest.currentRows(source, "users")) {
      users.put(u.get("user_id").asText(), text(u.get("email")) + "|" + text(u.get("display_name")) + "|"
          + text(u.get("status")) + "|" + Timestamps.toMicros(Timestamps.parse(u.get("updated_at").asText())));
    }
    return users;
  }

  private static Map<String, String> tableUsers(Catalog catalog) {
    Map<String, String> users = new TreeMap<>();
    for (Record r : rows(catalog, "users")) {
      users.put(r.getField("user_id").toString(), r.getField("email") + "|" + r.getField("display_name") + "|"
          + r.getField("status") + "|" + micros(r.getField("updated_at")));
    }
    return users;
  }

  /** Events by id: type, user, created_at (microseconds); each event once. */
  private static Map<String, String> sourceEvents(ExampleSource source) throws Exception {
    Map<String, String> events = new TreeMap<>();
    for (JsonNode e : ScdTablesTest.currentRows(source, "events")) {
      events.put(e.get("event_id").asText(), text(e.get("event_type")) + "|" + text(e.get("user_id")) + "|"
          + Timestamps.toMicros(Timestamps.parse(e.get("created_at").asText())));
    }
    return events;
  }

  private static Map<String, String> tableEvents(Catalog catalog) {
    Map<String, String> events = new TreeMap<>();
    for (Record r : rows(catalog, "events")) {
      String previous = events.put(r.getField("event_id").toString(),
          r.getField("event_type") + "|" + r.getField("user_id") + "|" + micros(r.getField("created_at")));
      assertNull(previous, "event " + r.getField("event_id") + " once");
    }
    return events;
  }

  private static List<String> keysOfRun(Catalog catalog, String table, String key, String runId) {
    List<String> keys = new ArrayList<>();
    for (Record r : rows(catalog, table)) {
      if (runId.equals(String.valueOf(r.getField("_run_id")))) {
        keys.add(r.getField(key).toString());
      }
    }
    keys.sort(null);
    return keys;
  }

  /** The table's rows, read through the catalog with Iceberg's generic reader. */
  private static List<Record> rows(Catalog catalog, String table) {
    return IcebergFiles.rows(catalog.loadTable(TableIdentifier.of("main", "example", table)));
  }

  private static String micros(Object timestamp) {
    return timestamp == null ? "null"
        : Long.toString(ChronoUnit.MICROS.between(Instant.EPOCH, ((OffsetDateTime) timestamp).toInstant()));
  }

  private static String text(JsonNode v) {
    return v == null || v.isNull() ? "null" : v.asText();
  }
}
