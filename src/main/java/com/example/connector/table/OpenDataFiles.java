package com.example.connector.table;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.DataWriter;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The data files one writer has open for a table: one per partition of the table's current spec
 * (a single one for an unpartitioned table), each closed and named when it reaches the table's
 * target size. A table partitioned by its owner after the connector created it gets its new
 * files in their partitions, as Iceberg's own fanout writers write them.
 *
 * <p>At most {@link #MAX_OPEN} files are open at once: each holds its buffered row group and, on
 * an object store, an upload buffer of several MB, so rows spread over thousands of partitions
 * (a backfill of a table partitioned by day) would otherwise hold thousands of them. The file
 * used longest ago is then closed, and its partition's next rows start a new one.
 */
final class OpenDataFiles {
  static final int MAX_OPEN = 32;
  private final Table table;
  private final org.apache.iceberg.Schema fileSchema;
  private final String tableKey;
  private final String runId;
  private final long targetBytes;
  private final PartitionSpec spec;
  /** The partition of the row being written, reused row after row (null when unpartitioned). */
  private final @Nullable PartitionKey rowPartition;
  /** In the order of their last use. */
  private final Map<PartitionKey, OpenFile> open = new LinkedHashMap<>(16, 0.75f, true);

  OpenDataFiles(Table table, org.apache.iceberg.Schema fileSchema, String tableKey, String runId) {
    this.table = table;
    this.fileSchema = fileSchema;
    this.tableKey = tableKey;
    this.runId = runId;
    this.targetBytes = TableFiles.targetBytes(table);
    this.spec = table.spec();
    // Over the table's schema, not the file's: a partition column the rows lack is null.
    this.rowPartition = spec.isUnpartitioned() ? null : new PartitionKey(spec, table.schema());
  }

  /**
   * Writes a row into its partition's file. Returns a file it closed: that one when it reached
   * the target size, or the one used longest ago when a new one needed its place.
   */
  @Nullable WrittenFile write(GenericRecord row) throws IOException {
    PartitionKey key = partitionOf(row);
    OpenFile file = open.get(key);
    WrittenFile evicted = null;
    if (file == null) {
      if (open.size() >= MAX_OPEN) {
        Map.Entry<PartitionKey, OpenFile> eldest = open.entrySet().iterator().next();
        open.remove(eldest.getKey());
        evicted = TableFiles.close(eldest.getValue().writer, tableKey);
      }
      PartitionKey own = key.copy(); // the writer keeps it: not the key the next row is partitioned into
      file = new OpenFile(TableFiles.openData(table, fileSchema, runId, spec, rowPartition == null ? null : own));
      open.put(own, file);
    }
    file.writer.write(row);
    // The length is what the writer has flushed so far: check it now and then, not per row.
    if (++file.rows % 1000 == 0 && file.writer.length() >= targetBytes) {
      open.remove(key);
      return TableFiles.close(file.writer, tableKey); // a file just opened has one row: nothing was evicted
    }
    return evicted;
  }

  /** Closes every open file and names it for the committer. */
  List<WrittenFile> closeAll() throws IOException {
    List<WrittenFile> closed = new ArrayList<>();
    for (OpenFile file : open.values()) {
      closed.add(TableFiles.close(file.writer, tableKey));
    }
    open.clear();
    return closed;
  }

  /** Closes every open file without naming it: files of a failed bundle, orphans for maintenance. */
  void abandon() {
    try {
      for (OpenFile file : open.values()) {
        file.writer.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("closing an abandoned data file of " + tableKey, e);
    } finally {
      open.clear();
    }
  }

  private PartitionKey partitionOf(GenericRecord row) {
    if (rowPartition == null) {
      return UNPARTITIONED;
    }
    rowPartition.partition(new AvroStruct(table.schema().asStruct(), row));
    return rowPartition;
  }

  /** The one key of an unpartitioned table's rows. */
  private static final PartitionKey UNPARTITIONED =
      new PartitionKey(PartitionSpec.unpartitioned(), new org.apache.iceberg.Schema());

  private static final class OpenFile {
    final DataWriter<GenericRecord> writer;
    long rows;

    OpenFile(DataWriter<GenericRecord> writer) {
      this.writer = writer;
    }
  }
}
