package com.example.connector.table;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.MetricsConfig;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.LocationProvider;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.parquet.ParquetAvroWriter;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.util.PropertyUtil;
import org.checkerframework.checker.nullness.qual.Nullable;

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
  static org.apache.iceberg.Schema fileSchema(Table table, Schema rowSchema, List<String> identifierColumns) {
    return TypeUtil.reassignIds(TableSchemas.toIceberg(rowSchema, identifierColumns), table.schema());
  }

  /** The size at which a data file is closed and the next one started. */
  static long targetBytes(Table table) {
    return PropertyUtil.propertyAsLong(table.properties(),
        TableProperties.WRITE_TARGET_FILE_SIZE_BYTES, TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT);
  }

  /**
   * A new data file of the table in a partition of {@code spec} (none for an unpartitioned spec),
   * named after the run that writes it; Avro rows are written as they are.
   */
  static DataWriter<GenericRecord> openData(Table table, org.apache.iceberg.Schema fileSchema, String runId,
      PartitionSpec spec, @Nullable StructLike partition) throws IOException {
    return Parquet.writeData(newFile(table, spec, partition, runId + "-" + UUID.randomUUID() + ".parquet"))
        .forTable(table)
        .schema(fileSchema)
        .withSpec(spec)
        .withPartition(partition)
        .createWriterFunc(ParquetAvroWriter::buildWriter)
        .overwrite()
        .build();
  }

  /** A new file of the table's data directory, in its partition's directory (none when unpartitioned). */
  static OutputFile newFile(Table table, PartitionSpec spec, @Nullable StructLike partition, String name) {
    LocationProvider locations = table.locationProvider();
    return table.io().newOutputFile(
        partition == null ? locations.newDataLocation(name) : locations.newDataLocation(spec, partition, name));
  }

  /** Closes a data file and names it for the committer. */
  static WrittenFile close(DataWriter<GenericRecord> writer, String tableKey) throws IOException {
    writer.close();
    return new WrittenFile(tableKey, writer.toDataFile(), List.of());
  }

  /**
   * Writes {@code rows} as data files of the table, in the partitions of its current spec, rolled
   * at its target size; none for no rows.
   */
  public static List<WrittenFile> writeData(Table table, String tableKey, String runId, Schema rowSchema,
      List<String> identifierColumns, Iterable<GenericRecord> rows) {
    OpenDataFiles open = new OpenDataFiles(table, fileSchema(table, rowSchema, identifierColumns), tableKey, runId);
    List<WrittenFile> files = new ArrayList<>();
    try {
      for (GenericRecord row : rows) {
        WrittenFile full = open.write(row);
        if (full != null) {
          files.add(full);
        }
      }
      files.addAll(open.closeAll());
      return files;
    } catch (IOException e) {
      open.abandon();
      throw new UncheckedIOException("writing a data file of " + tableKey, e);
    }
  }

  /**
   * Writes the deletes of rows by position, one position delete file per partition of the data
   * files they name ({@code partitions}); positions must be sorted ({@link RowPosition} orders them
   * as Iceberg requires), and stay sorted in each file.
   */
  public static List<WrittenFile> writeDeletes(Table table, String tableKey, String runId, List<RowPosition> sorted,
      DataFilePartitions partitions) {
    Map<DataFilePartitions.Partition, List<RowPosition>> byPartition = new LinkedHashMap<>();
    for (RowPosition p : sorted) {
      byPartition.computeIfAbsent(partitions.of(p.file()), k -> new ArrayList<>()).add(p);
    }
    List<WrittenFile> files = new ArrayList<>();
    byPartition.forEach((partition, positions) -> files.add(
        writeDeleteFile(table, tableKey, runId, positions, partition.spec(table), partition.values())));
    return files;
  }

  /** One position delete file of {@code partition} of {@code spec} (none for the unpartitioned spec). */
  private static WrittenFile writeDeleteFile(Table table, String tableKey, String runId, List<RowPosition> sorted,
      PartitionSpec spec, @Nullable StructLike partition) {
    try {
      PositionDeleteWriter<Record> writer =
          Parquet.writeDeletes(newFile(table, spec, partition, runId + "-deletes-" + UUID.randomUUID() + ".parquet"))
              .setAll(table.properties()) // not forTable(): that would write each deleted row too
              // full file_path bounds: a reader's planning then attaches the file to the data file it names only
              .metricsConfig(MetricsConfig.forPositionDelete(table))
              .withSpec(spec)
              .withPartition(partition)
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
