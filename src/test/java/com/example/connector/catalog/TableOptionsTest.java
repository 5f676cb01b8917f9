package com.example.connector.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.ConfigurationException;
import com.example.connector.pipeline.Connection;
import com.example.connector.pipeline.PipelineSpec;
import com.example.connector.pipeline.ProjectFiles;
import com.example.connector.pipeline.TableSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TableOptionsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Set<String> ALL = Set.of("max_records_per_batch", "limit",
      "window_seconds", "category", "user_id", "status", "start_timestamp");
  private static final List<SourceField> COLUMNS = List.of(
      SourceField.of("id", FieldType.STRING, false),
      SourceField.of("updated_at", FieldType.TIMESTAMP, true),
      SourceField.of("name", FieldType.STRING, true));
  /** Each table as the catalog describes it, over the same three columns (metrics: plus a struct). */
  private static final Map<String, TableDescriptor> TABLES = Map.of(
      "products", table("products", List.of("id"), null, IngestionType.SNAPSHOT),
      "events", table("events", List.of(), "updated_at", IngestionType.APPEND),
      "users", table("users", List.of("id"), "updated_at", IngestionType.CDC),
      "orders", table("orders", List.of("id"), "updated_at", IngestionType.CDC_WITH_DELETES),
      "metrics", new TableDescriptor("metrics", List.of(COLUMNS.get(0), COLUMNS.get(1),
          COLUMNS.get(2), new SourceField("value", FieldType.STRUCT, true,
              List.of(SourceField.of("count", FieldType.INTEGER, true)))),
          List.of("id"), "updated_at", "id", IngestionType.CDC));

  private static TableDescriptor table(String name, List<String> keys, String cursor,
      IngestionType type) {
    return new TableDescriptor(name, COLUMNS, keys, cursor, "id", type);
  }
  private static final String WHERE = "p.json: table 'orders' (object[0])";

  /** {@code config} is a JSON object's body, e.g. {@code "\"limit\": 5"}. */
  private static Map<String, JsonNode> config(String body) {
    try {
      Map<String, JsonNode> map = new LinkedHashMap<>();
      MAPPER.readTree("{" + body + "}").fields().forEachRemaining(e ->
          map.put(e.getKey(), e.getValue()));
      return map;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static TableOptions parse(String table, String body) {
    return TableOptions.parse(TABLES.get(table), config(body), ALL, WHERE);
  }

  private static ConfigurationException fails(String table, String body, String... parts) {
    ConfigurationException e =
        assertThrows(ConfigurationException.class, () -> parse(table, body));
    assertTrue(e.getMessage().startsWith(WHERE + ": table_configuration."), e.getMessage());
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), () -> "'" + part + "' not in: " + e.getMessage());
    }
    return e;
  }

  @Test
  void defaults() {
    TableOptions o = parse("users", "");
    assertEquals(new TableOptions(200, 50, 3600, null, null, null, null, ScdType.SCD_TYPE_1,
        null, null), o);
    assertEquals(new TableOptions(200, 50, 3600, null, null, null, null, null, null, null),
        parse("events", ""));
    assertEquals(ScdType.SCD_TYPE_1, parse("products", "").scdType());
  }

  @Test
  void sourceSpecificOptions() {
    TableOptions orders = parse("orders",
        "\"max_records_per_batch\": \"500\", \"user_id\": \"user_0001\", \"status\": \"shipped\"");
    assertEquals(500, orders.maxRecordsPerBatch());
    assertEquals("user_0001", orders.userId());
    assertEquals("shipped", orders.status());
    assertEquals("electronics", parse("products", "\"category\": \"electronics\"").category());
    TableOptions events = parse("events", "\"max_records_per_batch\": 500, \"limit\": \" 7 \"");
    assertEquals(500, events.maxRecordsPerBatch());
    assertEquals(7, events.limit());
    TableOptions metrics = parse("metrics", "\"window_seconds\": 3155760000,"
        + " \"start_timestamp\": \"2024-01-01T02:00:00+02:00\"");
    assertEquals(3_155_760_000L, metrics.windowSeconds());
    assertEquals(Instant.parse("2024-01-01T00:00:00Z"), metrics.startTimestamp());
    assertEquals(Instant.parse("2024-01-01T00:00:00Z"),
        parse("metrics", "\"start_timestamp\": \"2024-01-01T00:00:00Z\"").startTimestamp());
    assertEquals(Integer.MAX_VALUE,
        parse("users", "\"max_records_per_batch\": \"2147483647\"").maxRecordsPerBatch());
  }

  @Test
  void commonOptions() {
    TableOptions o = parse("users", "\"scd_type\": \"SCD_TYPE_2\", \"primary_keys\":"
        + " [\"id\", \"name\"], \"sequence_by\": \"updated_at\"");
    assertEquals(ScdType.SCD_TYPE_2, o.scdType());
    assertEquals(List.of("id", "name"), o.primaryKeys());
    assertEquals("updated_at", o.sequenceBy());
    assertEquals(List.of("id", "name"),
        parse("users", "\"primary_keys\": \"[\\\"id\\\", \\\"name\\\"]\"").primaryKeys());
    assertEquals(List.of("id", "name"),
        parse("users", "\"primary_keys\": \" id , name,\"").primaryKeys());
    assertEquals(List.of("id", "updated_at"),
        parse("orders", "\"primary_keys\": \"id,updated_at\", \"sequence_by\": \"updated_at\"")
            .primaryKeys());
    assertEquals(List.of("id"), parse("products", "\"primary_keys\": [\"id\"]").primaryKeys());
    assertEquals(ScdType.SCD_TYPE_2, parse("products", "\"scd_type\": \"SCD_TYPE_2\"").scdType());
    // Common options are not gated by the allowlist.
    assertEquals(ScdType.SCD_TYPE_2, TableOptions.parse(TABLES.get("users"),
        config("\"scd_type\": \"SCD_TYPE_2\", \"sequence_by\": \"id\""), Set.of(), WHERE)
        .scdType());
  }

  @Test
  void scdTypeErrors() {
    fails("events", "\"scd_type\": \"SCD_TYPE_1\"", "scd_type: APPEND_ONLY tables do not support"
        + " scd_type", "remove scd_type");
    fails("users", "\"scd_type\": \"SCD_TYPE_3\"", "scd_type: 'SCD_TYPE_3'",
        "SCD_TYPE_1 or SCD_TYPE_2");
    fails("users", "\"scd_type\": 2", "scd_type: must be a string");
  }

  @Test
  void primaryKeyAndSequenceErrors() {
    fails("users", "\"primary_keys\": [\"id\", \"nope\"]", "primary_keys: 'nope' is not a column",
        "use one of id, updated_at, name");
    fails("users", "\"primary_keys\": []", "primary_keys: is empty");
    fails("users", "\"primary_keys\": \" , \"", "primary_keys: is empty");
    fails("users", "\"primary_keys\": [1]", "primary_keys: contains a number");
    fails("users", "\"primary_keys\": [\"\"]", "primary_keys: contains an empty name");
    fails("users", "\"primary_keys\": \"[id\"", "primary_keys: '[id' is not a valid JSON array");
    fails("users", "\"primary_keys\": [\"id\", \"id\"]", "more than once");
    fails("users", "\"primary_keys\": 5", "primary_keys: must be a list or a string");
    fails("users", "\"sequence_by\": \"nope\"", "sequence_by: 'nope' is not a column");
    fails("users", "\"sequence_by\": \"\"", "sequence_by: is empty");
  }

  @Test
  void keyAndSequenceMustBeAbleToDoTheirJob() {
    fails("events", "\"primary_keys\": [\"id\"]", "primary_keys: 'events' is an append table",
        "remove primary_keys");
    fails("events", "\"sequence_by\": \"updated_at\"", "sequence_by: 'events' is an append table");
    fails("products", "\"sequence_by\": \"name\"", "sequence_by: 'products' is a snapshot table",
        "remove sequence_by");
    fails("metrics", "\"primary_keys\": [\"id\", \"value\"]",
        "primary_keys: 'value' is a struct column");
    fails("metrics", "\"sequence_by\": \"value\"", "sequence_by: 'value' is a struct column");
    fails("orders", "\"primary_keys\": [\"name\"]", "primary_keys: 'name' is null in the deletes"
        + " of 'orders' (a tombstone carries only id and updated_at), so a delete could not be"
        + " matched by it", "use only id, updated_at");
    fails("orders", "\"sequence_by\": \"name\"", "could not be ordered by it");
  }

  @Test
  void unknownOptionListsKnownOnes() {
    fails("users", "\"num_rows\": \"5\"", "num_rows: unknown option",
        "scd_type, primary_keys, sequence_by, max_records_per_batch, limit, window_seconds,"
            + " category, user_id, status, start_timestamp");
  }

  @Test
  void sourceSpecificOptionsNeedTheAllowList() {
    ConfigurationException e = assertThrows(ConfigurationException.class,
        () -> TableOptions.parse(TABLES.get("orders"), config("\"status\": \"shipped\""), Set.of("user_id"), WHERE));
    assertEquals(WHERE + ": table_configuration.status: 'status' is not in the connection's"
        + " externalOptionsAllowList; add 'status' to externalOptionsAllowList of the connection",
        e.getMessage());
  }

  @Test
  void optionsOnTablesTheyDoNotApplyTo() {
    fails("products", "\"max_records_per_batch\": 5", "does not apply to snapshot table"
        + " 'products'", "events, users, orders, metrics");
    fails("users", "\"limit\": 5", "limit: does not apply to table 'users'", "only to events");
    fails("events", "\"window_seconds\": 5", "window_seconds:", "only to metrics");
    fails("orders", "\"category\": \"x\"", "category:", "only to products");
    fails("products", "\"user_id\": \"x\"", "user_id:", "only to orders");
    fails("metrics", "\"status\": \"x\"", "status:", "only to orders");
    fails("users", "\"start_timestamp\": \"2024-01-01T00:00:00Z\"", "start_timestamp:",
        "only to metrics");
  }

  @Test
  void badNumbers() {
    for (String bad : List.of("\"abc\"", "\"0\"", "0", "\"-3\"", "-3", "\"1.5\"", "1.5", "\"\"",
        "\"2147483648\"", "1e3")) {
      ConfigurationException e =
          fails("events", "\"limit\": " + bad, "limit: '", "write a whole number from 1 to");
      String shown = bad.replace("\"", "");
      assertTrue(e.getMessage().contains("'" + shown + "'") || bad.equals("1e3"), e.getMessage());
    }
    fails("events", "\"limit\": true", "limit: must be a number, found a boolean");
    fails("events", "\"limit\": null", "limit: must be a number, found null");
    fails("metrics", "\"window_seconds\": \"99999999999999999999\"", "window_seconds:",
        "out of range");
    // Reads multiply the window by 10^6 and add it to cursors: bounded at 100 years of seconds.
    fails("metrics", "\"window_seconds\": 3155760001", "window_seconds: '3155760001' is out of"
        + " range; write a whole number from 1 to 3155760000 (100 years)");
    fails("metrics", "\"window_seconds\": \"9223372036854775807\"", "out of range");
    fails("users", "\"max_records_per_batch\": \"2147483648\"", "out of range");
  }

  @Test
  void badStrings() {
    fails("orders", "\"status\": \"\"", "status: is empty");
    fails("orders", "\"user_id\": 17", "user_id: must be a string, found a number");
    fails("products", "\"category\": \"  \"", "category: is empty");
    fails("metrics", "\"start_timestamp\": \"2024-01-01T00:00:00\"",
        "start_timestamp: '2024-01-01T00:00:00' is not an ISO-8601 timestamp with an offset",
        "2024-01-01T00:00:00Z");
    fails("metrics", "\"start_timestamp\": \"yesterday\"", "start_timestamp: 'yesterday'");
    // Cursors are microseconds in a long: years 1 to 9999 only.
    fails("metrics", "\"start_timestamp\": \"+999999-01-01T00:00:00Z\"",
        "start_timestamp: '+999999-01-01T00:00:00Z' is outside the years 1 to 9999");
    fails("metrics", "\"start_timestamp\": \"-0001-01-01T00:00:00Z\"", "outside the years 1 to 9999");
  }

  private static final TableOptions APPEND_DEFAULTS =
      new TableOptions(200, 50, 3600, null, null, null, null, null, null, null);

  @Test
  void serializesAndCopiesLists() throws Exception {
    List<String> keys = new java.util.ArrayList<>(List.of("id"));
    TableOptions o = new TableOptions(1, 2, 3, "c", "u", "s", Instant.EPOCH, ScdType.SCD_TYPE_2,
        keys, "updated_at");
    keys.add("name");
    assertEquals(List.of("id"), o.primaryKeys());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
      out.writeObject(APPEND_DEFAULTS);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      assertEquals(o, in.readObject());
      assertEquals(APPEND_DEFAULTS, in.readObject());
    }
    assertThrows(IllegalArgumentException.class,
        () -> new TableOptions(0, 1, 1, null, null, null, null, null, null, null));
    assertThrows(IllegalArgumentException.class,
        () -> new TableOptions(1, 1, 3_155_760_001L, null, null, null, null, null, null, null));
  }

  @Test
  void shippedSpecsValidateAgainstShippedConnection() {
    Connection connection =
        Connection.resolve("my_example_connection", ProjectFiles.pipelines("connections"), null);
    for (String file : List.of("example_ingest.json", "filtered_ingest.json", "minimal.json", "history_ingest.json")) {
      PipelineSpec spec = PipelineSpec.load(ProjectFiles.pipelines(file));
      assertEquals(connection.name(), spec.connectionName());
      for (TableSpec t : spec.tables()) {
        TableOptions o = TableOptions.parse(TABLES.get(t.sourceTable()), t.tableConfiguration(),
            connection.externalOptionsAllowList(), file);
        if (!t.sourceTable().equals("products")) {
          assertEquals(file.equals("minimal.json") || file.equals("history_ingest.json") ? 200 : 500,
              o.maxRecordsPerBatch());
        }
        if (t.sourceTable().equals("metrics")) {
          assertEquals(7200, o.windowSeconds());
        }
        if (t.sourceTable().equals("events")) {
          assertEquals(50, o.limit());
        }
        if (file.equals("example_ingest.json")) {
          assertNull(o.category());
          assertNull(o.userId());
          assertNull(o.status());
        }
      }
    }
  }
}
