package com.example.connector.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** A source table's schema as the connector takes it, and the columns it cannot land. */
class TableCatalogTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String METADATA = "{\"primary_keys\": [\"user_id\"], \"cursor_field\": \"updated_at\"}";

  private static TableDescriptor describe(String columns) throws Exception {
    JsonNode schema = JSON.readTree("[{\"name\": \"user_id\", \"type\": \"string\", \"nullable\": false},"
        + " {\"name\": \"updated_at\", \"type\": \"timestamp\", \"nullable\": false}, " + columns + "]");
    return TableCatalog.describe("users", schema, JSON.readTree(METADATA));
  }

  @Test
  void namesOfLettersDigitsAndUnderscoresAreLanded() throws Exception {
    TableDescriptor t = describe("{\"name\": \"_tier2\", \"type\": \"string\"},"
        + " {\"name\": \"geo\", \"type\": \"struct\", \"fields\": [{\"name\": \"Lat_1\", \"type\": \"double\"}]}");
    assertEquals(java.util.List.of("user_id", "updated_at", "_tier2", "geo"), t.columnNames());
    RecordSchemas.schemaOf(t); // the rows' schema builds
  }

  /**
   * A column whose name Avro refuses (a header-like 'user-agent', a nested 'geo.lat-long') stops
   * the run at planning naming the table, the column and the rule: Avro's own "Illegal character
   * in: user-agent" named neither the table nor what to do.
   */
  @Test
  void aColumnNameTheRowsCannotCarryIsNamedWithTheRule() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> describe("{\"name\": \"user-agent\", \"type\": \"string\"}"));
    assertEquals("users: the source's column 'user-agent' cannot be landed: this connector's rows (Avro records)"
        + " need column names that start with a letter or '_' and hold only letters, digits and '_'; a column"
        + " named otherwise is not supported yet", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> describe(
        "{\"name\": \"geo\", \"type\": \"struct\", \"fields\": [{\"name\": \"lat-long\", \"type\": \"string\"}]}"));
    assertEquals(true, e.getMessage().startsWith("users.geo: the source's column 'lat-long' cannot be landed"), e.getMessage());
  }

  /**
   * The contract identifies events by {@code event_id} and breaks their cursor ties by it, but
   * orders no schema's columns. The connector took the first column listed: from a server listing
   * {@code event_type} first, a tie group larger than a page kept one event per type.
   */
  @Test
  void eventsAreIdentifiedByEventIdWhereverTheSchemaListsIt() throws Exception {
    JsonNode schema = JSON.readTree("[{\"name\": \"event_type\", \"type\": \"string\", \"nullable\": true},"
        + " {\"name\": \"event_id\", \"type\": \"string\", \"nullable\": false},"
        + " {\"name\": \"created_at\", \"type\": \"timestamp\", \"nullable\": true}]");
    TableDescriptor events = TableCatalog.describe("events", schema, JSON.readTree("{\"cursor_field\": \"created_at\"}"));
    assertEquals("event_id", events.identityField());
  }

  /** A source column named as a column the connector adds to every row would be two columns of one name. */
  @Test
  void aColumnNamedAsOneTheConnectorAddsIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> describe("{\"name\": \"_run_id\", \"type\": \"string\"}"));
    assertEquals("users: the source's column '_run_id' cannot be landed: the connector adds a column of that name"
        + " to every row (see README, Tables: Apache Iceberg)", e.getMessage());
  }
}
