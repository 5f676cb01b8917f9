package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.ConfigurationException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineSpecTest {

  private static String spec(String objects) {
    return "{\"pipeline_spec\": {\"connection_name\": \"conn\", \"object\": [" + objects + "]}}";
  }

  private static ConfigurationException fails(String json) {
    return assertThrows(ConfigurationException.class, () -> PipelineSpec.parse(json, "x.json"));
  }

  private static void assertMentions(ConfigurationException e, String... parts) {
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), () -> "'" + part + "' not in: " + e.getMessage());
    }
  }

  @Test
  void parsesFullEntryWithObjectKey() {
    PipelineSpec s = PipelineSpec.parse(spec("{\"table\": {\"source_table\": \"orders\","
        + " \"destination_catalog\": \"c\", \"destination_schema\": \"s\","
        + " \"destination_table\": \"t\", \"table_configuration\": {\"status\": \"shipped\","
        + " \"max_records_per_batch\": 500, \"a\": 1}}}"), "x.json");
    assertEquals("conn", s.connectionName());
    TableSpec t = s.tables().get(0);
    assertEquals("orders", t.sourceTable());
    assertEquals("c", t.destinationCatalog());
    assertEquals("s", t.destinationSchema());
    assertEquals("t", t.destinationTable());
    assertEquals(List.of("status", "max_records_per_batch", "a"),
        List.copyOf(t.tableConfiguration().keySet()));
    assertEquals("shipped", t.tableConfiguration().get("status").asText());
    assertEquals(500, t.tableConfiguration().get("max_records_per_batch").intValue());
    assertThrows(UnsupportedOperationException.class,
        () -> t.tableConfiguration().put("x", t.tableConfiguration().get("a")));
    assertThrows(UnsupportedOperationException.class, () -> s.tables().clear());
  }

  @Test
  void acceptsObjectsKeyAndDefaultsAbsentFields() {
    PipelineSpec s = PipelineSpec.parse("{\"pipeline_spec\": {\"connection_name\": \"conn\","
        + " \"objects\": [{\"table\": {\"source_table\": \"users\"}},"
        + " {\"table\": {\"source_table\": \"events\", \"destination_schema\": null}}]}}", "x");
    assertEquals(2, s.tables().size());
    TableSpec t = s.tables().get(0);
    assertNull(t.destinationCatalog());
    assertNull(t.destinationSchema());
    assertNull(t.destinationTable());
    assertEquals("users", t.effectiveDestinationTable());
    assertEquals(Map.<String, JsonNode>of(), t.tableConfiguration());
  }

  @Test
  void shippedSpecsLoad() {
    PipelineSpec example = PipelineSpec.load(ProjectFiles.pipelines("example_ingest.json"));
    assertEquals("my_example_connection", example.connectionName());
    assertEquals(List.of("orders", "products", "metrics", "events", "users"),
        example.tables().stream().map(TableSpec::sourceTable).toList());
    for (TableSpec t : example.tables()) {
      for (String filter : List.of("user_id", "status", "category")) {
        assertTrue(!t.tableConfiguration().containsKey(filter), "demo spec must not filter");
      }
    }
    PipelineSpec filtered = PipelineSpec.load(ProjectFiles.pipelines("filtered_ingest.json"));
    assertEquals("shipped", filtered.tables().get(0).tableConfiguration().get("status").asText());
    assertEquals("electronics",
        filtered.tables().get(1).tableConfiguration().get("category").asText());
    PipelineSpec minimal = PipelineSpec.load(ProjectFiles.pipelines("minimal.json"));
    assertEquals(1, minimal.tables().size());
    assertEquals("users", minimal.tables().get(0).sourceTable());
    assertTrue(minimal.tables().get(0).tableConfiguration().isEmpty());
  }

  @Test
  void missingFileNamesPath(@TempDir Path dir) {
    Path missing = dir.resolve("nope.json");
    ConfigurationException e =
        assertThrows(ConfigurationException.class, () -> PipelineSpec.load(missing));
    assertMentions(e, missing.toString(), "not found");
  }

  @Test
  void loadPrefixesMessagesWithFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("p.json");
    Files.writeString(file, spec(""));
    ConfigurationException e =
        assertThrows(ConfigurationException.class, () -> PipelineSpec.load(file));
    assertTrue(e.getMessage().startsWith(file + ": pipeline_spec.object: is empty"),
        e.getMessage());
  }

  @Test
  void malformedJsonGivesLineAndColumn() {
    ConfigurationException e = fails("{\n  \"pipeline_spec\": {\n    \"connection_name\": ,\n");
    assertMentions(e, "x.json: malformed JSON at line 3, column", "fix the JSON syntax");
    assertMentions(fails(""), "x.json", "empty");
    assertMentions(fails(spec("") + " {}"), "malformed JSON at line 1");
    assertMentions(fails("{\"pipeline_spec\": {}, \"pipeline_spec\": {}}"), "malformed JSON",
        "Duplicate field");
  }

  @Test
  void rejectsUnknownKeysAtEveryLevel() {
    assertMentions(fails("{\"pipeline_spec\": {}, \"extra\": 1}"),
        "x.json: (top level): unknown key 'extra'", "allowed keys are pipeline_spec");
    assertMentions(fails("{\"pipeline_spec\": {\"connection_name\": \"c\", \"object\": [],"
        + " \"conection\": 1}}"), "pipeline_spec: unknown key 'conection'",
        "connection_name, object, objects");
    assertMentions(fails(spec("{\"table\": {\"source_table\": \"a\"}, \"tabel\": {}}")),
        "pipeline_spec.object[0]: unknown key 'tabel'", "allowed keys are table");
    assertMentions(fails(spec("{\"table\": {\"source_table\": \"a\", \"dest_table\": \"b\"}}")),
        "pipeline_spec.object[0].table: unknown key 'dest_table'",
        "source_table, destination_catalog, destination_schema, destination_table,"
            + " table_configuration");
  }

  @Test
  void rejectsBadStructure() {
    assertMentions(fails("[]"), "(top level): must be a JSON object");
    assertMentions(fails("{}"), "pipeline_spec: is missing");
    assertMentions(fails("{\"pipeline_spec\": []}"), "pipeline_spec: must be a JSON object");
    assertMentions(fails("{\"pipeline_spec\": {\"object\": [{\"table\": {\"source_table\": \"a\"}}]}}"),
        "x.json: pipeline_spec.connection_name: is missing", "add \"connection_name\"");
    assertMentions(fails("{\"pipeline_spec\": {\"connection_name\": 3, \"object\": []}}"),
        "pipeline_spec.connection_name: must be a string, found a number");
    assertMentions(fails("{\"pipeline_spec\": {\"connection_name\": \" \", \"object\": []}}"),
        "pipeline_spec.connection_name: is empty");
    assertMentions(fails("{\"pipeline_spec\": {\"connection_name\": \"../etc\", \"object\": []}}"),
        "pipeline_spec.connection_name: '../etc' is not a valid connection name");
    assertMentions(fails("{\"pipeline_spec\": {\"connection_name\": \"c\"}}"),
        "pipeline_spec.object: is missing");
    assertMentions(fails("{\"pipeline_spec\": {\"connection_name\": \"c\", \"object\": [],"
        + " \"objects\": []}}"), "both 'object' and 'objects'");
    assertMentions(fails("{\"pipeline_spec\": {\"connection_name\": \"c\", \"objects\": {}}}"),
        "pipeline_spec.objects: must be an array");
    assertMentions(fails("{\"pipeline_spec\": {\"connection_name\": \"c\", \"objects\": []}}"),
        "pipeline_spec.objects: is empty", "list at least one");
    assertMentions(fails(spec("\"users\"")), "pipeline_spec.object[0]: must be a JSON object");
    assertMentions(fails(spec("{}")), "pipeline_spec.object[0].table: is missing");
  }

  @Test
  void rejectsBadTableFields() {
    assertMentions(fails(spec("{\"table\": {\"source_table\": \"a\"}}, {\"table\": {}}")),
        "x.json: pipeline_spec.object[1].table.source_table: is missing",
        "add \"source_table\"");
    assertMentions(fails(spec("{\"table\": {\"source_table\": [\"a\"]}}")),
        "pipeline_spec.object[0].table.source_table: must be a string, found an array",
        "double quotes");
    assertMentions(fails(spec("{\"table\": {\"source_table\": \"\"}}")),
        "pipeline_spec.object[0].table.source_table: is empty");
    assertMentions(fails(spec("{\"table\": {\"source_table\": \"a\", \"destination_table\": 1}}")),
        "pipeline_spec.object[0].table.destination_table: must be a string");
    assertMentions(fails(spec("{\"table\": {\"source_table\": \"a\", \"table_configuration\": []}}")),
        "pipeline_spec.object[0].table.table_configuration: must be a JSON object");
  }

  @Test
  void sourceTableNamesAreNotValidatedHere() {
    assertEquals("no_such_table",
        PipelineSpec.parse(spec("{\"table\": {\"source_table\": \"no_such_table\"}}"), "x")
            .tables().get(0).sourceTable());
  }

  @Test
  void rejectsDuplicateDestinations() {
    assertMentions(fails(spec("{\"table\": {\"source_table\": \"users\"}},"
            + " {\"table\": {\"source_table\": \"events\"}}, {\"table\": {\"source_table\": \"users\"}}")),
        "pipeline_spec.object[2].table: writes to the same destination"
            + " <default catalog>.<default schema>.users as object[0]",
        "different destination_table");
    // A renamed table landing on another table's default name also collides.
    assertMentions(fails(spec("{\"table\": {\"source_table\": \"users\"}},"
            + " {\"table\": {\"source_table\": \"orders\", \"destination_table\": \"users\"}}")),
        "pipeline_spec.object[1].table: writes to the same destination");
    // The same source to two destinations is fine.
    assertEquals(2, PipelineSpec.parse(spec("{\"table\": {\"source_table\": \"users\"}},"
        + " {\"table\": {\"source_table\": \"users\", \"destination_schema\": \"copy\"}}"), "x")
        .tables().size());
  }
}
