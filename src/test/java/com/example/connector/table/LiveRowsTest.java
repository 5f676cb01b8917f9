package com.example.connector.table;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.example.testing.IcebergFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A committed file's live rows ({@link LiveRows#read}), with a first test applied before the
 * deletes or none: both kinds of deletes applied either way. Ten rows, ids 0 to 9; a position
 * delete of positions 2 and 7 (ids 2 and 7), then an equality delete of ids 4 and 7 as another
 * engine's upsert writes it.
 */
class LiveRowsTest {
  private static final Schema SCHEMA = new Schema(
      Types.NestedField.required(1, "id", Types.LongType.get()),
      Types.NestedField.optional(2, "name", Types.StringType.get()));
  private static final Schema PROJECTION = new Schema(SCHEMA.findField("id"), MetadataColumns.ROW_POSITION);

  @TempDir Path warehouse;

  @Test
  void bothKindsOfDeletesAreAppliedToTheRowsThatPassTheFirstTest() throws IOException {
    Table table = new HadoopCatalog(new org.apache.hadoop.conf.Configuration(), warehouse.toString())
        .createTable(TableIdentifier.of("db", "t"), SCHEMA, PartitionSpec.unpartitioned(), Map.of("format-version", "2"));
    List<Record> rows = new ArrayList<>();
    for (long id = 0; id < 10; id++) {
      Record row = GenericRecord.create(SCHEMA);
      row.setField("id", id);
      row.setField("name", "row-" + id);
      rows.add(row);
    }
    DataFile data = IcebergFiles.dataFile(table, rows);
    table.newAppend().appendFile(data).commit();
    table.newRowDelta().addDeletes(IcebergFiles.positionDeletes(table, data, 2, 7)).commit();
    Schema idOnly = SCHEMA.select("id");
    List<Record> keys = new ArrayList<>();
    for (long id : new long[] {4, 7}) {
      Record key = GenericRecord.create(idOnly);
      key.setField("id", id);
      keys.add(key);
    }
    table.newRowDelta().addDeletes(IcebergFiles.equalityDeletes(table, idOnly, keys)).commit();
    FileScanTask task;
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      task = tasks.iterator().next();
    }
    assertEquals(2, task.deletes().size(), "a position and an equality delete file");

    assertEquals(List.of("0@0", "1@1", "3@3", "5@5", "6@6", "8@8", "9@9"),
        idsAndPositions(LiveRows.read(new CommittedRead(table), task, PROJECTION, row -> true)));
    Predicate<Record> odd = row -> (Long) row.getField("id") % 2 == 1;
    assertEquals(List.of("1@1", "3@3", "5@5", "9@9"), idsAndPositions(LiveRows.read(new CommittedRead(table), task, PROJECTION, odd)));
  }

  private static List<String> idsAndPositions(CloseableIterable<Record> rows) throws IOException {
    List<String> found = new ArrayList<>();
    try (rows) {
      rows.forEach(r -> found.add(r.getField("id") + "@" + r.getField(MetadataColumns.ROW_POSITION.name())));
    }
    return found;
  }
}
