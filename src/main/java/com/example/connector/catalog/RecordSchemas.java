package com.example.connector.catalog;

import com.example.connector.client.SourceException;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.DateTimeException;
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
 * columns. Rows are Avro {@link GenericRecord}s: Beam's AvroCoder carries them and Iceberg's
 * Parquet writer writes them as they are;
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
   * Told of the fields a record has beyond the table's columns as planned, by column path ({@code
   * tier}, or {@code value.tier} in a struct); it throws to fail the read, or returns to leave
   * them out of the row.
   */
  @FunctionalInterface
  public interface UnplannedFields {
    void found(List<String> columns);
  }

  /**
   * Converts one source record to a destination row. A record that breaks the table's schema (a
   * value of the wrong type, a null in a column the source declares not nullable) fails with a
   * {@link SourceException} naming the table, the column and the value, so a source that breaks
   * its contract is reported, not half-written; the client adds the request it came from. Fields
   * beyond the table's go to {@code unplanned}; telling that a record has some costs a count.
   */
  public static GenericRecord toRow(Schema schema, TableDescriptor table, JsonNode record, RunStamp stamp,
      String operation, UnplannedFields unplanned) {
    GenericRecord row = new GenericData.Record(schema);
    int present = 0;
    for (SourceField f : table.fields()) {
      JsonNode node = record.get(f.name());
      present += node == null ? 0 : 1;
      row.put(f.name(), value(f, node, schema.getField(f.name()).schema(), table.name(), unplanned));
    }
    if (record.size() > present) { // the source's contract: every column, so this is rare
      unplanned.found(beyond(record, table.fields(), table.name()));
    }
    row.put(RUN_ID, stamp.runId());
    row.put(INGESTED_AT, stamp.ingestedAtMicros());
    row.put(OPERATION, operation);
    row.put(IS_DELETED, "delete".equals(operation));
    return row;
  }

  /** {@code where}: the table, then the struct columns leading to {@code f}. */
  private static Object value(SourceField f, JsonNode node, Schema union, String where, UnplannedFields unplanned) {
    if (node == null || node.isNull()) {
      if (!f.nullable()) {
        throw invalid(where, f, "should not be null (the source's schema declares it not nullable) but was "
            + (node == null ? "missing" : "null"));
      }
      return null;
    }
    switch (f.type()) {
      case STRING:
        require(node.isTextual(), where, f, "a string", node);
        String text = node.asText();
        int lone = loneSurrogate(text);
        if (lone >= 0) { // Parquet's UTF-8 would store it as '?': a key holding one never matched its row again
          throw invalid(where, f, "should be a string of Unicode characters (a UTF-8 file cannot hold the unpaired"
              + " surrogate " + surrogatesEscaped(text.substring(lone, lone + 1)) + ") but was "
              + surrogatesEscaped(node.toString()));
        }
        return text;
      case INTEGER:
        require(node.isIntegralNumber() && node.canConvertToLong(), where, f, "an integer", node);
        return node.asLong();
      case DOUBLE:
        require(node.isNumber(), where, f, "a number", node);
        return node.asDouble();
      case TIMESTAMP:
        require(node.isTextual(), where, f, "an ISO-8601 timestamp", node);
        try {
          return Timestamps.parseMicros(node.asText());
        } catch (RuntimeException e) {
          throw invalid(where, f, "should be an ISO-8601 timestamp but was " + node);
        }
      case DATE:
        require(node.isTextual(), where, f, "an ISO-8601 date", node);
        try {
          return (int) LocalDate.parse(node.asText()).toEpochDay();
        } catch (DateTimeException e) {
          throw invalid(where, f, "should be an ISO-8601 date but was " + node);
        }
      case STRUCT:
        require(node.isObject(), where, f, "an object", node);
        Schema recordSchema = union.getTypes().get(1);
        GenericRecord nested = new GenericData.Record(recordSchema);
        int present = 0;
        for (SourceField s : f.fields()) {
          JsonNode sub = node.get(s.name());
          present += sub == null ? 0 : 1;
          nested.put(s.name(), value(s, sub, recordSchema.getField(s.name()).schema(), where + "." + f.name(), unplanned));
        }
        if (node.size() > present) {
          unplanned.found(beyond(node, f.fields(), where + "." + f.name()));
        }
        return nested;
      default:
        throw new AssertionError(f.type());
    }
  }

  /**
   * Where {@code s} holds a surrogate that is not half of a pair (an escape such as {@code
   * \\ud83d} alone, as a server that cut a string inside an emoji sends it), or -1.
   */
  private static int loneSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }

  /** {@code s} with its surrogates as JSON escapes, so that a message shows them. */
  private static String surrogatesEscaped(String s) {
    StringBuilder b = new StringBuilder(s.length());
    s.chars().forEach(c -> b.append(Character.isSurrogate((char) c) ? String.format("\\u%04X", c) : String.valueOf((char) c)));
    return b.toString();
  }

  private static void require(boolean ok, String where, SourceField f, String expected, JsonNode actual) {
    if (!ok) { // the message is only built here: this runs for every value
      throw invalid(where, f, "should be " + expected + " but was " + actual);
    }
  }

  /** The fields of {@code node} that none of {@code fields} names, as column paths. */
  private static List<String> beyond(JsonNode node, List<SourceField> fields, String where) {
    List<String> columns = new ArrayList<>();
    node.fieldNames().forEachRemaining(name -> {
      if (fields.stream().noneMatch(f -> f.name().equals(name))) {
        columns.add(column(where, name));
      }
    });
    return columns;
  }

  /** The path of column {@code name} in {@code where} (the table, then the struct columns leading there). */
  private static String column(String where, String name) {
    return (where.contains(".") ? where.substring(where.indexOf('.') + 1) + "." : "") + name;
  }

  private static SourceException invalid(String where, SourceField f, String problem) {
    String table = where.contains(".") ? where.substring(0, where.indexOf('.')) : where;
    String column = column(where, f.name());
    String text = problem.length() > 300 ? problem.substring(0, 300) + "..." : problem;
    return new SourceException(
        "a record of table " + table + " does not fit the source's schema: column " + column + " " + text,
        200,
        null);
  }
}
