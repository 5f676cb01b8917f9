package com.example.connector.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.SourceRows;
import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.client.SourceException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link RecordSchemas#toRow}: what the source's schema allows, and what it reports otherwise. */
class RecordSchemasTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TableDescriptor USERS = new TableDescriptor(
      "users",
      List.of(SourceField.of("user_id", FieldType.STRING, false), SourceField.of("email", FieldType.STRING, true),
          SourceField.of("updated_at", FieldType.TIMESTAMP, true), SourceField.of("born", FieldType.DATE, true)),
      List.of("user_id"), "updated_at", "user_id", IngestionType.CDC);

  private static GenericRecord toRow(TableDescriptor table, String json, String operation) throws Exception {
    Schema schema = RecordSchemas.schemaOf(table);
    JsonNode record = JSON.readTree(json);
    return SourceRows.toRow(schema, table, record, new RunStamp("run-1", 7), operation);
  }

  @Test
  void nullsInNullableColumnsAreNulls() throws Exception {
    GenericRecord row = toRow(USERS, "{\"user_id\": \"u1\", \"email\": null}", "upsert");
    assertEquals("u1", row.get("user_id").toString());
    assertNull(row.get("email"));
    assertNull(row.get("updated_at"));
  }

  /** Issue 12.4: a source answering {@code user_id: null} must not make a table keyed null. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
    "{\"user_id\": null, \"email\": \"a@b\"}  | upsert | column user_id should not be null (the source's schema declares it not nullable) but was null",
    "{\"email\": \"a@b\"}                     | upsert | column user_id should not be null (the source's schema declares it not nullable) but was missing",
    "{\"user_id\": null}                      | delete | column user_id should not be null",
  })
  void aNullInANotNullableColumnFailsNamingIt(String json, String operation, String problem) {
    SourceException e = assertThrows(SourceException.class, () -> toRow(USERS, json, operation));
    assertTrue(e.getMessage().startsWith("a record of table users does not fit the source's schema: "), e.getMessage());
    assertTrue(e.getMessage().contains(problem), e.getMessage());
    assertEquals(200, e.status());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
    "{\"user_id\": 17}                                  | column user_id should be a string but was 17",
    "{\"user_id\": \"u\", \"email\": [1, 2]}           | column email should be a string but was [1,2]",
    "{\"user_id\": \"u\", \"updated_at\": \"yesterday\"} | column updated_at should be an ISO-8601 timestamp but was \"yesterday\"",
    "{\"user_id\": \"u\", \"updated_at\": 1700000000}   | column updated_at should be an ISO-8601 timestamp but was 1700000000",
    "{\"user_id\": \"u\", \"born\": \"2024-13-01\"}      | column born should be an ISO-8601 date but was \"2024-13-01\"",
    // A lone surrogate (a string cut inside an emoji, its half escaped, as JavaScript's JSON.stringify
    // writes it) is no character: Parquet's UTF-8 stored '?', so a key holding one never matched its row again.
    "{\"user_id\": \"user_\\ud83d\"}                  | column user_id should be a string of Unicode characters (a UTF-8 file cannot hold the unpaired surrogate \\uD83D) but was \"user_\\uD83D\"",
    "{\"user_id\": \"u\", \"email\": \"\\ude00a@b\"}   | column email should be a string of Unicode characters (a UTF-8 file cannot hold the unpaired surrogate \\uDE00) but was \"\\uDE00a@b\"",
  })
  void aValueOfTheWrongTypeFailsNamingTableColumnAndValue(String json, String problem) {
    SourceException e = assertThrows(SourceException.class, () -> toRow(USERS, json, "upsert"));
    assertEquals("a record of table users does not fit the source's schema: " + problem, e.getMessage());
  }

  @Test
  void aSurrogatePairIsOneCharacter() throws Exception {
    assertEquals("user_\ud83d\ude00", toRow(USERS, "{\"user_id\": \"user_\\ud83d\\ude00\"}", "upsert").get("user_id"));
  }

  @Test
  void aStructMemberIsNamedByItsPath() {
    String json = "{\"metric_id\": \"m\", \"value\": {\"count\": 1.5}, \"updated_at\": \"2024-01-01T00:00:00Z\"}";
    SourceException e = assertThrows(SourceException.class, () -> toRow(TableCatalog.METRICS, json, "upsert"));
    assertEquals(
        "a record of table metrics does not fit the source's schema: column value.count should be an integer but was 1.5",
        e.getMessage());
  }

  /** Fields beyond the table's are told by path, a struct's too, and left out of the row. */
  @Test
  void fieldsBeyondTheTablesAreToldByPathAndLeftOut() throws Exception {
    List<List<String>> told = new ArrayList<>();
    String json = "{\"metric_id\": \"m\", \"value\": {\"count\": 1, \"unit\": \"s\"}, \"region\": \"eu\","
        + " \"updated_at\": \"2024-01-01T00:00:00Z\"}";
    GenericRecord row = RecordSchemas.toRow(RecordSchemas.schemaOf(TableCatalog.METRICS), TableCatalog.METRICS,
        JSON.readTree(json), new RunStamp("run-1", 7), "upsert", told::add);
    assertEquals(List.of(List.of("value.unit"), List.of("region")), told);
    assertEquals("m", row.get("metric_id").toString());
    assertEquals(1L, ((GenericRecord) row.get("value")).get("count"));
    assertNull(row.getSchema().getField("region"));
  }

  /** A new field in place of a column the record lacks: as many fields as the table has, told all the same. */
  @Test
  void aNewFieldBesideAMissingColumnIsTold() throws Exception {
    List<List<String>> told = new ArrayList<>();
    RecordSchemas.toRow(RecordSchemas.schemaOf(USERS), USERS,
        JSON.readTree("{\"user_id\": \"u\", \"email\": null, \"updated_at\": null, \"tier\": \"gold\"}"),
        new RunStamp("run-1", 7), "upsert", told::add);
    assertEquals(List.of(List.of("tier")), told);
  }

  @Test
  void aRecordOfTheTablesColumnsAloneTellsNothing() throws Exception {
    List<List<String>> told = new ArrayList<>();
    RecordSchemas.toRow(RecordSchemas.schemaOf(USERS), USERS,
        JSON.readTree("{\"user_id\": \"u\", \"email\": null, \"updated_at\": null, \"born\": null}"),
        new RunStamp("run-1", 7), "upsert", told::add);
    assertEquals(List.of(), told);
  }

  @Test
  void metricsUpdatedAtIsNotNullable() {
    String json = "{\"metric_id\": \"m\", \"updated_at\": null}";
    SourceException e = assertThrows(SourceException.class, () -> toRow(TableCatalog.METRICS, json, "upsert"));
    assertTrue(e.getMessage().contains("column updated_at should not be null"), e.getMessage());
  }
}
