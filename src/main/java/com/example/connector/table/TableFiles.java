package com.example.connector.table;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.parquet.ParquetAvroWriter;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.util.PropertyUtil;

/**
 * How a table's data and position delete files are written, with Iceberg's Parquet writers: one
 * place for the workers of a bounded run ({@link WriteDataFiles}, {@link WritePositionDeletes}) and
 * the committer of a continuous run, which writes an interval's few rows itself.
 */
public final class TableFiles {
  private TableFiles() {}

  /**
   * The schema a file of {@code rows} is written with: the rows' own columns under the table's
   * field ids, so a column the table has and the rows lack is absent from the file (read as null).
   */
  public static org.apache.iceberg.Schema fileSchema(Table table, Schema rowSchema, List<String> identifierColumns) {
    return TypeUtil.reassignIds(TableSchemas.toIceberg(rowSchema, identifierColumns), table.schema());
  }

  /** The size at which a data file is closed and the next one started. */
  public static long targetBytes(Table table) {
    return PropertyUtil.propertyAsLong(table.properties(),
        TableProperties.WRITE_TARGET_FILE_SIZE_BYTES, TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT);
  }

  /** A new data file of the table, named after the run that writes it; Avro rows are written as they are. */
  public static DataWriter<GenericRecord> openData(Table table, org.apache.iceberg.Schema fileSchema, String runId)
      throws IOException {
    String name = runId + "-" + UUID.randomUUID() + ".parquet";
    return Parquet.writeData(table.io().newOutputFile(table.locationProvider().newDataLocation(name)))
        .forTable(table)
        .schema(fileSchema)
        .withSpec(PartitionSpec.unpartitioned())
        .createWriterFunc(ParquetAvroWriter::buildWriter)
        .overwrite()
        .build();
  }

  /** Closes a data file and names it for the committer. */
  public static WrittenFile close(DataWriter<GenericRecord> writer, String tableKey) throws IOException {
    writer.close();
    return new WrittenFile(tableKey, writer.toDataFile(), List.of());
  }

  /** Writes {@code rows} as data files of the table, rolled at its target size; none for no rows. */
  public static List<WrittenFile> writeData(Table table, String tableKey, String runId, Schema rowSchema,
      List<String> identifierColumns, Iterable<GenericRecord> rows) {
    org.apache.iceberg.Schema fileSchema = fileSchema(table, rowSchema, identifierColumns);
    long target = targetBytes(table);
    List<WrittenFile> files = new ArrayList<>();
    DataWriter<GenericRecord> writer = null;
    long count = 0;
    try {
      for (GenericRecord row : rows) {
        if (writer == null) {
          writer = openData(table, fileSchema, runId);
        }
        writer.write(row);
        if (++count % 1000 == 0 && writer.length() >= target) {
          files.add(close(writer, tableKey));
          writer = null;
        }
      }
      if (writer != null) {
        files.add(close(writer, tableKey));
      }
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException("writing a data file of " + tableKey, e);
    }
  }

  /**
   * Writes the deletes of rows by position as one position delete file; positions must be sorted
   * ({@link RowPosition} orders them as Iceberg requires).
   */
  public static WrittenFile writeDeletes(Table table, String tableKey, String runId, List<RowPosition> sorted) {
    String name = runId + "-deletes-" + UUID.randomUUID() + ".parquet";
    try {
      PositionDeleteWriter<Record> writer =
          Parquet.writeDeletes(table.io().newOutputFile(table.locationProvider().newDataLocation(name)))
              .setAll(table.properties()) // not forTable(): that would write each deleted row too
              .withSpec(PartitionSpec.unpartitioned())
              .overwrite()
              .buildPositionWriter();
      PositionDelete<Record> delete = PositionDelete.create();
      try (writer) {
        for (RowPosition p : sorted) {
          writer.write(delete.set(p.file(), p.position(), null));
        }
      }
      List<String> referenced = new ArrayList<>();
      writer.referencedDataFiles().forEach(f -> referenced.add(f.toString()));
      return new WrittenFile(tableKey, writer.toDeleteFile(), referenced);
    } catch (IOException e) {
      throw new UncheckedIOException("writing a position delete file of " + tableKey, e);
    }
  }
}
