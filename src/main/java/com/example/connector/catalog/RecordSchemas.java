package com.example.connector.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * The destination row of a table: the source's columns, typed, then the connector's metadata
 * columns. Rows are Avro {@link GenericRecord}s because that is what Beam's ParquetIO writes;
 * timestamps are {@code timestamp-micros}, dates {@code date}, structs nested records.
 */
public final class RecordSchemas {
  /** The run that wrote the row. */
  public static final String RUN_ID = "_run_id";
  /** When that run started (UTC, microseconds): the same for every row of a run. */
  public static final String INGESTED_AT = "_ingested_at";
  /** {@code snapshot}, {@code append}, {@code upsert} or {@code delete}. */
  public static final String OPERATION = "_operation";
  /** True for a tombstone: only the primary key and cursor are set. */
  public static final String IS_DELETED = "_is_deleted";

  private static final Set<String> METADATA = Set.of(RUN_ID, INGESTED_AT, OPERATION, IS_DELETED);

  private RecordSchemas() {}

  /** Whether a column is one the connector adds rather than one of the source's. */
  public static boolean isMetadata(String column) {
    return METADATA.contains(column);
  }

  /** The Avro schema of a table's destination rows. */
  public static Schema schemaOf(TableDescriptor table) {
    List<Schema.Field> fields = new ArrayList<>();
    for (SourceField f : table.fields()) {
      fields.add(new Schema.Field(f.name(), avroType(f, table.name()), null, (Object) null));
    }
    fields.add(new Schema.Field(RUN_ID, Schema.create(Schema.Type.STRING)));
    fields.add(new Schema.Field(INGESTED_AT, timestampMicros()));
    fields.add(new Schema.Field(OPERATION, Schema.create(Schema.Type.STRING)));
    fields.add(new Schema.Field(IS_DELETED, Schema.create(Schema.Type.BOOLEAN)));
    return Schema.createRecord(table.name(), null, "com.example.connector.rows", false, fields);
  }

  private static Schema avroType(SourceField f, String parent) {
    Schema type;
    switch (f.type()) {
      case STRING:
        type = Schema.create(Schema.Type.STRING);
        break;
      case INTEGER:
        type = Schema.create(Schema.Type.LONG);
        break;
      case DOUBLE:
        type = Schema.create(Schema.Type.DOUBLE);
        break;
      case TIMESTAMP:
        type = timestampMicros();
        break;
      case DATE:
        type = LogicalTypes.date().addToSchema(Schema.create(Schema.Type.INT));
        break;
      case STRUCT:
        List<Schema.Field> sub = new ArrayList<>();
        String name = parent + "_" + f.name();
        for (SourceField s : f.fields()) {
          sub.add(new Schema.Field(s.name(), avroType(s, name), null, (Object) null));
        }
        type = Schema.createRecord(name, null, "com.example.connector.rows", false, sub);
        break;
      default:
        throw new AssertionError(f.type());
    }
    // Every source column may be null in a tombstone, so every column is nullable downstream.
    return Schema.createUnion(Schema.create(Schema.Type.NULL), type);
  }

  private static Schema timestampMicros() {
    return LogicalTypes.timestampMicros().addToSchema(Schema.create(Schema.Type.LONG));
  }

  /** What the connector adds to every row of one run. */
  public record RunStamp(String runId, long ingestedAtMicros) implements java.io.Serializable {}

  /**
   * Converts one source record to a destination row. Fails with the column name on a value of
   * the wrong type, so a source that breaks its contract is reported, not half-written.
   */
  public static GenericRecord toRow(
      Schema schema, TableDescriptor table, JsonNode record, RunStamp stamp, String operation) {
    GenericRecord row = new GenericData.Record(schema);
    for (SourceField f : table.fields()) {
      row.put(f.name(), value(f, record.get(f.name()), schema.getField(f.name()).schema(), table.name()));
    }
    row.put(RUN_ID, stamp.runId());
    row.put(INGESTED_AT, stamp.ingestedAtMicros());
    row.put(OPERATION, operation);
    row.put(IS_DELETED, "delete".equals(operation));
    return row;
  }

  private static Object value(SourceField f, JsonNode node, Schema union, String where) {
    if (node == null || node.isNull()) {
      return null;
    }
    switch (f.type()) {
      case STRING:
        require(node.isTextual(), where, f, "a string", node);
        return node.asText();
      case INTEGER:
        require(node.isIntegralNumber() && node.canConvertToLong(), where, f, "an integer", node);
        return node.asLong();
      case DOUBLE:
        require(node.isNumber(), where, f, "a number", node);
        return node.asDouble();
      case TIMESTAMP:
        require(node.isTextual(), where, f, "an ISO-8601 timestamp", node);
        return Timestamps.parseMicros(node.asText());
      case DATE:
        require(node.isTextual(), where, f, "an ISO-8601 date", node);
        return (int) LocalDate.parse(node.asText()).toEpochDay();
      case STRUCT:
        require(node.isObject(), where, f, "an object", node);
        Schema recordSchema = union.getTypes().get(1);
        GenericRecord nested = new GenericData.Record(recordSchema);
        for (SourceField s : f.fields()) {
          nested.put(s.name(), value(s, node.get(s.name()), recordSchema.getField(s.name()).schema(), where + "." + f.name()));
        }
        return nested;
      default:
        throw new AssertionError(f.type());
    }
  }

  private static void require(boolean ok, String where, SourceField f, String expected, JsonNode actual) {
    if (!ok) { // the column's name is only spelled out here: this runs for every value
      throw new IllegalArgumentException(
          "source record: column " + where + "." + f.name() + " should be " + expected + " but was " + actual);
    }
  }
}
