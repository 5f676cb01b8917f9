package com.example.connector.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One {@code table} entry of a pipeline spec, as written. Destinations left out are null (the
 * caller applies the pipeline's defaults; the table name defaults to {@code sourceTable}). The
 * {@code tableConfiguration} values are the raw JSON values; {@code
 * com.example.connector.catalog.TableOptions#parse} validates them against the source.
 */
public record TableSpec(
    String sourceTable,
    @Nullable String destinationCatalog,
    @Nullable String destinationSchema,
    @Nullable String destinationTable,
    Map<String, JsonNode> tableConfiguration) {

  public TableSpec {
    Objects.requireNonNull(sourceTable, "sourceTable");
    Map<String, JsonNode> copy = new LinkedHashMap<>();
    Objects.requireNonNull(tableConfiguration, "tableConfiguration")
        .forEach((k, v) -> copy.put(Objects.requireNonNull(k), v.deepCopy()));
    tableConfiguration = Collections.unmodifiableMap(copy);
  }

  /** The destination table name: {@code destinationTable}, else {@code sourceTable}. */
  public String effectiveDestinationTable() {
    return destinationTable != null ? destinationTable : sourceTable;
  }
}
