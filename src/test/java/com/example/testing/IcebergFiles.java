package com.example.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.parquet.Parquet;

/**
 * Iceberg's own Parquet writer and generic reader, not the connector's: tables' given state in
 * tests, and what a table holds.
 */
public final class IcebergFiles {
  private IcebergFiles() {}

  /** The table's live rows (its deletes applied), read with Iceberg's generic reader, each a copy. */
  public static List<Record> rows(Table table) {
    List<Record> rows = new ArrayList<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      records.forEach(r -> rows.add(r.copy()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  /** A data file in the table's data directory holding {@code rows}, not yet committed, in row groups of the table's size. */
  public static DataFile dataFile(Table table, List<Record> rows) {
    try {
      DataWriter<Record> writer = Parquet.writeData(
              table.io().newOutputFile(table.locationProvider().newDataLocation(UUID.randomUUID() + ".parquet")))
          .setAll(table.properties())
          .schema(table.schema())
          .withSpec(PartitionSpec.unpartitioned())
          .createWriterFunc(GenericParquetWriter::buildWriter)
          .overwrite()
          .build();
      try (writer) {
        rows.forEach(writer::write);
      }
      return writer.toDataFile();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * An equality delete file in the table's data directory, as another engine's upserts write
   * them (Iceberg's Flink sink), deleting the rows equal to {@code keys} (records of {@code
   * keySchema}, the table's columns that identify a row) in the files committed before it; not
   * yet committed.
   */
  public static DeleteFile equalityDeletes(Table table, Schema keySchema, List<Record> keys) {
    try {
      EqualityDeleteWriter<Record> writer = Parquet.writeDeletes(
              table.io().newOutputFile(table.locationProvider().newDataLocation(UUID.randomUUID() + "-eq-deletes.parquet")))
          .forTable(table)
          .rowSchema(keySchema)
          .withSpec(PartitionSpec.unpartitioned())
          .createWriterFunc(GenericParquetWriter::buildWriter)
          .equalityFieldIds(keySchema.columns().stream().map(c -> c.fieldId()).toList())
          .overwrite()
          .buildEqualityWriter();
      try (writer) {
        keys.forEach(writer::write);
      }
      return writer.toDeleteFile();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A position delete file in the table's data directory deleting rows of {@code data}, not yet committed. */
  public static DeleteFile positionDeletes(Table table, DataFile data, long... positions) {
    try {
      PositionDeleteWriter<Record> writer = Parquet.writeDeletes(
              table.io().newOutputFile(table.locationProvider().newDataLocation(UUID.randomUUID() + "-deletes.parquet")))
          .withSpec(PartitionSpec.unpartitioned())
          .overwrite()
          .buildPositionWriter();
      try (writer) {
        for (long position : positions) {
          writer.write(PositionDelete.<Record>create().set(data.path(), position, null));
        }
      }
      return writer.toDeleteFile();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
