package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import com.example.connector.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A pipeline spec file: {@code {"pipeline_spec": {"connection_name": ..., "object": [{"table":
 * {...}}, ...]}}}. Checks the shape only; table names and options are checked against the source
 * by the catalog.
 */
public record PipelineSpec(String connectionName, List<TableSpec> tables) {

  private static final Set<String> ROOT_KEYS = keys("pipeline_spec");
  private static final Set<String> SPEC_KEYS = keys("connection_name", "object", "objects");
  private static final Set<String> ENTRY_KEYS = keys("table");
  private static final Set<String> TABLE_KEYS =
      keys("source_table", "destination_catalog", "destination_schema", "destination_table",
          "table_configuration");
  /** A connection name is also a file name: {@code <connections dir>/<name>.json}. */
  static final Pattern CONNECTION_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");

  public PipelineSpec {
    Objects.requireNonNull(connectionName, "connectionName");
    tables = List.copyOf(tables);
  }

  /** Reads and checks a spec file; messages start with the file's path. */
  public static PipelineSpec load(Path file) {
    String json;
    try {
      json = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigurationException(
          file + ": pipeline spec file not found; check the path (relative paths are resolved"
              + " against the working directory " + Path.of("").toAbsolutePath() + ")");
    } catch (IOException e) {
      throw new ConfigurationException(
          file + ": cannot read the pipeline spec (" + e.getClass().getSimpleName() + ": "
              + e.getMessage() + "); check that it is a readable UTF-8 file", e);
    }
    return parse(json, file.toString());
  }

  /** Parses and checks spec JSON; {@code sourceName} (usually the file) starts every message. */
  public static PipelineSpec parse(String json, String sourceName) {
    ObjectNode spec = specObject(json, sourceName);
    String listKey = listKey(spec, sourceName);
    return new PipelineSpec(connectionName(spec, sourceName),
        tables(tableList(spec, sourceName, listKey), sourceName, listKey));
  }

  /** The {@code pipeline_spec} object, the only key at the top level. */
  private static ObjectNode specObject(String json, String src) {
    ObjectNode root = Json.object(Json.read(json, src, true), src, "(top level)");
    Json.onlyKeys(root, src, "", ROOT_KEYS);
    JsonNode specNode = root.get("pipeline_spec");
    if (specNode == null) {
      throw Json.error(src, "pipeline_spec", "is missing",
          "the file must be {\"pipeline_spec\": {\"connection_name\": ..., \"object\": [...]}}");
    }
    ObjectNode spec = Json.object(specNode, src, "pipeline_spec");
    Json.onlyKeys(spec, src, "pipeline_spec", SPEC_KEYS);
    return spec;
  }

  private static String connectionName(ObjectNode spec, String src) {
    String connectionName = Json.requiredString(spec, src, "pipeline_spec", "connection_name");
    if (!CONNECTION_NAME.matcher(connectionName).matches()) {
      throw Json.error(src, "pipeline_spec.connection_name",
          "'" + connectionName + "' is not a valid connection name",
          "use letters, digits, '_', '-' and '.' only (it names the file <name>.json)");
    }
    return connectionName;
  }

  /** {@code object} or its synonym {@code objects}, not both. */
  private static String listKey(ObjectNode spec, String src) {
    if (spec.has("object") && spec.has("objects")) {
      throw Json.error(src, "pipeline_spec", "both 'object' and 'objects' are given",
          "put all tables in one list, under 'object'");
    }
    return spec.has("objects") ? "objects" : "object";
  }

  private static JsonNode tableList(ObjectNode spec, String src, String listKey) {
    String listPath = "pipeline_spec." + listKey;
    JsonNode list = spec.get(listKey);
    if (list == null || list.isNull()) {
      throw Json.error(src, "pipeline_spec.object", "is missing",
          "add \"object\": [{\"table\": {\"source_table\": \"...\"}}]");
    }
    if (!list.isArray()) {
      throw Json.error(src, listPath, "must be an array [...], found " + Json.kind(list),
          "write it as [{\"table\": {...}}, ...]");
    }
    if (list.isEmpty()) {
      throw Json.error(src, listPath, "is empty", "list at least one {\"table\": {...}}");
    }
    return list;
  }

  private static List<TableSpec> tables(JsonNode list, String src, String listKey) {
    List<TableSpec> tables = new ArrayList<>();
    Map<List<String>, Integer> seen = new HashMap<>();
    for (int i = 0; i < list.size(); i++) {
      String entryPath = "pipeline_spec." + listKey + "[" + i + "]";
      ObjectNode entry = Json.object(list.get(i), src, entryPath);
      Json.onlyKeys(entry, src, entryPath, ENTRY_KEYS);
      String tablePath = entryPath + ".table";
      JsonNode tableNode = entry.get("table");
      if (tableNode == null) {
        throw Json.error(src, tablePath, "is missing",
            "write each entry as {\"table\": {\"source_table\": \"...\"}}");
      }
      TableSpec table = table(Json.object(tableNode, src, tablePath), src, tablePath);

      // Entries whose destinations are equal as written land on the same table whatever the
      // pipeline's default catalog and schema are (absent = the same default for both).
      List<String> destination =
          java.util.Arrays.asList(table.destinationCatalog(), table.destinationSchema(),
              table.effectiveDestinationTable());
      Integer earlier = seen.putIfAbsent(destination, i);
      if (earlier != null) {
        throw Json.error(src, tablePath,
            "writes to the same destination " + describe(table) + " as " + listKey + "["
                + earlier + "]",
            "give one of them a different destination_table (or destination_schema)");
      }
      tables.add(table);
    }
    return tables;
  }

  private static TableSpec table(ObjectNode table, String src, String path) {
    Json.onlyKeys(table, src, path, TABLE_KEYS);
    String sourceTable = Json.requiredString(table, src, path, "source_table");
    String catalog = Json.optionalString(table, src, path, "destination_catalog");
    String schema = Json.optionalString(table, src, path, "destination_schema");
    String destTable = Json.optionalString(table, src, path, "destination_table");
    Map<String, JsonNode> config = new LinkedHashMap<>();
    JsonNode configNode = table.get("table_configuration");
    if (configNode != null && !configNode.isNull()) {
      ObjectNode object = Json.object(configNode, src, path + ".table_configuration");
      for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        config.put(e.getKey(), e.getValue());
      }
    }
    return new TableSpec(sourceTable, catalog, schema, destTable, config);
  }

  private static String describe(TableSpec t) {
    return (t.destinationCatalog() == null ? "<default catalog>" : t.destinationCatalog()) + "."
        + (t.destinationSchema() == null ? "<default schema>" : t.destinationSchema()) + "."
        + t.effectiveDestinationTable();
  }

  private static Set<String> keys(String... names) {
    return java.util.Collections.unmodifiableSet(new LinkedHashSet<>(List.of(names)));
  }
}
