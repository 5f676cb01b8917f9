package com.example.connector.catalog;

import com.example.connector.ConfigurationException;
import com.example.connector.client.ExampleClient;
import com.example.connector.ParallelCalls;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tables the connector can read: the source's discoverable tables, with schema and metadata
 * from its API, plus the hidden {@code metrics}, whose schema is hard-coded here because the API
 * has no schema or metadata route for it.
 */
public final class TableCatalog {

  /** The hidden time-series table. */
  public static final TableDescriptor METRICS =
      new TableDescriptor(
          "metrics",
          List.of(
              SourceField.of("metric_id", FieldType.STRING, false),
              SourceField.of("name", FieldType.STRING, true),
              new SourceField(
                  "value",
                  FieldType.STRUCT,
                  true,
                  List.of(
                      SourceField.of("count", FieldType.INTEGER, true),
                      SourceField.of("label", FieldType.STRING, true),
                      SourceField.of("measure", FieldType.DOUBLE, true))),
              SourceField.of("host", FieldType.STRING, true),
              SourceField.of("updated_at", FieldType.TIMESTAMP, false)),
          List.of("metric_id"),
          "updated_at",
          "metric_id",
          IngestionType.CDC);

  private final Map<String, TableDescriptor> tables;

  private TableCatalog(Map<String, TableDescriptor> tables) {
    this.tables = tables;
  }

  /**
   * Asks the source for its tables, then for their schemas and metadata, table by table side by
   * side: against a remote API, a call after another costs a round trip each, before any data moves.
   */
  public static TableCatalog discover(ExampleClient client) {
    List<String> names = client.listTables();
    List<TableDescriptor> described;
    try (ParallelCalls calls = new ParallelCalls("discovery")) {
      described = calls.map(names, name -> describe(name, client.schema(name), client.metadata(name)));
    }
    Map<String, TableDescriptor> tables = new LinkedHashMap<>();
    described.forEach(t -> tables.put(t.name(), t));
    tables.put(METRICS.name(), METRICS);
    return new TableCatalog(tables);
  }

  static TableDescriptor describe(String name, JsonNode schema, JsonNode metadata) {
    List<SourceField> fields = new ArrayList<>();
    schema.forEach(f -> fields.add(SourceField.fromJson(f, name)));
    for (SourceField f : fields) {
      if (RecordSchemas.isMetadata(f.name())) {
        throw new IllegalArgumentException(name + ": the source's column '" + f.name() + "' cannot be landed: the"
            + " connector adds a column of that name to every row (see README, Tables: Apache Iceberg)");
      }
    }
    List<String> keys = new ArrayList<>();
    metadata.path("primary_keys").forEach(k -> keys.add(k.asText()));
    String cursor = metadata.hasNonNull("cursor_field") ? metadata.get("cursor_field").asText() : null;
    // Events declare no key but the contract breaks their ties by event_id, wherever the schema lists it.
    String identity = keys.size() == 1 ? keys.get(0) : name.equals("events") ? "event_id" : fields.get(0).name();
    return new TableDescriptor(name, fields, keys, cursor, identity, ingestionType(name, cursor));
  }

  /**
   * As documented: events are append-only, orders carry deletes; otherwise a table with a
   * cursor is CDC and one without is a snapshot. (Metrics, hidden, is CDC: see {@link #METRICS}.)
   */
  static IngestionType ingestionType(String table, String cursorField) {
    switch (table) {
      case "events":
        return IngestionType.APPEND;
      case "orders":
        return IngestionType.CDC_WITH_DELETES;
      default:
        return cursorField == null ? IngestionType.SNAPSHOT : IngestionType.CDC;
    }
  }

  /** The table, or a configuration error that lists the supported names. */
  public TableDescriptor table(String name, String where) {
    TableDescriptor t = tables.get(name);
    if (t == null) {
      throw new ConfigurationException(
          where + ": source_table '" + name + "' is not a table of this source; supported: "
              + String.join(", ", tables.keySet()));
    }
    return t;
  }
}
