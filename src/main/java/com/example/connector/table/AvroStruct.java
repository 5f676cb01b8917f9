package com.example.connector.table;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.types.Types;

/**
 * An Avro row seen as a struct of an Iceberg type, by column name: what Iceberg's partition
 * transforms read a row through. Values are Iceberg's own representations (timestamps as
 * microseconds and dates as days, as the rows hold them; strings as {@code String}, so that equal
 * partitions are equal keys), and a column the row lacks reads as null, as it does from its file.
 */
final class AvroStruct implements StructLike {
  private final Types.StructType type;
  private final GenericRecord row;

  AvroStruct(Types.StructType type, GenericRecord row) {
    this.type = type;
    this.row = row;
  }

  @Override
  public int size() {
    return type.fields().size();
  }

  @Override
  public <T> T get(int pos, Class<T> javaClass) {
    Types.NestedField column = type.fields().get(pos);
    Schema.Field field = row.getSchema().getField(column.name());
    Object value = field == null ? null : row.get(field.pos());
    if (value instanceof CharSequence s) {
      value = s.toString();
    } else if (value instanceof GenericRecord nested) {
      value = new AvroStruct(column.type().asStructType(), nested);
    }
    return javaClass.cast(value);
  }

  @Override
  public <T> void set(int pos, T value) {
    throw new UnsupportedOperationException("a row is read, not written, through its struct view");
  }
}
