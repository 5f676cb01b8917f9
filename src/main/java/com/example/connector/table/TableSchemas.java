package com.example.connector.table;

import com.example.connector.catalog.Timestamps;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * A table's rows in two forms: Avro {@link GenericRecord}s in the pipeline (what the reads build
 * and Beam's coders carry), Iceberg columns in the table. Timestamps are {@code timestamptz}
 * (microseconds, UTC), dates {@code date}, nested records Iceberg structs; a column is required
 * when its Avro type is not a union with null, or when it is one of the table's identifier
 * fields (its primary keys).
 */
public final class TableSchemas {
  private TableSchemas() {}

  /** The Iceberg schema of rows of this Avro schema, with fresh field ids. */
  public static org.apache.iceberg.Schema toIceberg(Schema avro, List<String> identifierColumns) {
    AtomicInteger ids = new AtomicInteger(0);
    Set<String> identifiers = new HashSet<>(identifierColumns);
    List<Types.NestedField> columns = fields(avro, identifiers, ids);
    Set<Integer> identifierIds = new HashSet<>();
    for (Types.NestedField c : columns) {
      if (identifiers.contains(c.name())) {
        identifierIds.add(c.fieldId());
      }
    }
    return new org.apache.iceberg.Schema(columns, identifierIds);
  }

  private static List<Types.NestedField> fields(Schema record, Set<String> required, AtomicInteger ids) {
    // Ids of a level first, then of nested levels: Iceberg's own assignment order.
    List<Integer> levelIds = new ArrayList<>();
    for (int i = 0; i < record.getFields().size(); i++) {
      levelIds.add(ids.incrementAndGet());
    }
    List<Types.NestedField> fields = new ArrayList<>();
    for (int i = 0; i < record.getFields().size(); i++) {
      Schema.Field f = record.getFields().get(i);
      Schema type = nonNull(f.schema());
      boolean optional = type != f.schema() && !required.contains(f.name());
      fields.add(Types.NestedField.of(levelIds.get(i), optional, f.name(), type(type, ids)));
    }
    return fields;
  }

  private static Type type(Schema avro, AtomicInteger ids) {
    LogicalType logical = avro.getLogicalType();
    switch (avro.getType()) {
      case STRING:
        return Types.StringType.get();
      case BOOLEAN:
        return Types.BooleanType.get();
      case DOUBLE:
        return Types.DoubleType.get();
      case INT:
        return logical instanceof LogicalTypes.Date ? Types.DateType.get() : Types.IntegerType.get();
      case LONG:
        return logical instanceof LogicalTypes.TimestampMicros ? Types.TimestampType.withZone() : Types.LongType.get();
      case RECORD:
        return Types.StructType.of(fields(avro, Set.of(), ids));
      default:
        throw new IllegalArgumentException("no Iceberg type for Avro " + avro);
    }
  }

  /** The type a nullable union holds, or the type itself. */
  static Schema nonNull(Schema schema) {
    if (schema.getType() != Schema.Type.UNION) {
      return schema;
    }
    for (Schema s : schema.getTypes()) {
      if (s.getType() != Schema.Type.NULL) {
        return s;
      }
    }
    throw new IllegalArgumentException("a union of null alone: " + schema);
  }

  /** An Iceberg row (as Iceberg's generic readers give it) as an Avro record of {@code schema}. */
  public static GenericRecord toAvro(Record row, Schema schema) {
    GenericData.Record out = new GenericData.Record(schema);
    for (Schema.Field f : schema.getFields()) {
      out.put(f.pos(), value(row.getField(f.name()), nonNull(f.schema())));
    }
    return out;
  }

  private static Object value(Object v, Schema type) {
    return v instanceof Record r ? toAvro(r, type) : avroValue(v);
  }

  /** A value of a primitive Iceberg column as the pipeline's Avro rows hold it. */
  public static Object avroValue(Object v) {
    if (v instanceof OffsetDateTime t) {
      return Timestamps.toMicros(t.toInstant()); // not ChronoUnit's: it counts nanoseconds, past a long beyond 1677-2262
    }
    if (v instanceof LocalDate d) {
      return (int) d.toEpochDay();
    }
    if (v instanceof CharSequence s) {
      return s.toString();
    }
    return v;
  }
}
