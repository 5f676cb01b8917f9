package com.example.connector.table;

import java.util.function.Predicate;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericDeleteFilter;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.IdentityPartitionConverters;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.util.PartitionUtil;

/**
 * The rows of one committed data file (or its part, {@code task}) that are still live: the deletes
 * committed against it applied, and identity partition columns filled from the file's partition,
 * as readers fill them. What compaction rewrites, and what a merge reads of the committed table
 * where {@link KeyScan} does not read the file (or no key filter drops rows: a snapshot table).
 */
public final class LiveRows {
  private LiveRows() {}

  /**
   * The live rows that pass {@code first}, with the columns of {@code projection} first, in its
   * order (a row may have more after them: what applying the deletes needed). {@code first} sees
   * each row before Iceberg's delete filter does, so that a reader that drops most rows on other
   * grounds checks only the rest against the deletes: applying them to every row was a quarter of a
   * merge's read of the committed rows.
   */
  public static CloseableIterable<Record> read(CommittedRead committed, FileScanTask task, Schema projection,
      Predicate<Record> first) {
    Table table = committed.table();
    GenericDeleteFilter deletes = committed.deletes(task, projection);
    Schema required = deletes.requiredSchema(); // with the row position when there are position deletes
    return deletes.filter(CloseableIterable.filter(rows(table, task, required), first));
  }

  /** All rows of {@code task}'s part of its file, deleted or not, in the {@code required} schema. */
  private static CloseableIterable<Record> rows(Table table, FileScanTask task, Schema required) {
    return Parquet.read(table.io().newInputFile(task.file().path().toString()))
        .project(required)
        .split(task.start(), task.length())
        // Identity partition values as the generic records hold them (a LocalDate, an OffsetDateTime),
        // not Iceberg's internal ones, which the writer of a compaction cannot take.
        .createReaderFunc(fileSchema -> GenericParquetReaders.buildReader(required, fileSchema,
            PartitionUtil.constantsMap(task, IdentityPartitionConverters::convertConstant)))
        .build();
  }
}
