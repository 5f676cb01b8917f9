package com.example.connector.table;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rows written into the partitions of a table's current spec, with a bounded number of files open. */
class OpenDataFilesTest {
  private static final Schema ROW = SchemaBuilder.record("row").fields()
      .requiredString("id").optionalString("region").endRecord();

  @TempDir Path dir;

  @Test
  void anUnpartitionedTableGetsOneFile() {
    Table table = table();
    List<WrittenFile> files = TableFiles.writeData(table, "t", "run", ROW, List.of("id"), rows("a", "b", null, "a"));
    assertEquals(List.of("0 [] 4"), described(files));
  }

  @Test
  void aPartitionedTableGetsAFilePerPartitionOfItsRows() {
    Table table = table();
    table.updateSpec().addField("region").commit();
    List<WrittenFile> files = TableFiles.writeData(table, "t", "run", ROW, List.of("id"), rows("a", "b", null, "a", "b"));
    assertEquals(List.of("1 [a] 2", "1 [b] 2", "1 [null] 1"), described(files));
  }

  /** 33 partitions one after another, then the first again: it was closed to make room, and starts a new file. */
  @Test
  void theFileUsedLongestAgoIsClosedWhenMoreThanMaxOpenPartitionsAreWritten() {
    Table table = table();
    table.updateSpec().addField("region").commit();
    List<String> regions = new ArrayList<>();
    for (int i = 0; i <= OpenDataFiles.MAX_OPEN; i++) {
      regions.add(String.format("r%02d", i));
    }
    regions.add("r00");
    List<WrittenFile> files = TableFiles.writeData(table, "t", "run", ROW, List.of("id"), rows(regions.toArray(String[]::new)));
    assertEquals(OpenDataFiles.MAX_OPEN + 2, files.size());
    Map<String, Integer> filesByRegion = new TreeMap<>();
    files.forEach(f -> filesByRegion.merge(String.valueOf(f.dataFile().partition().get(0, Object.class)), 1, Integer::sum));
    assertEquals(2, filesByRegion.get("r00"));
    assertEquals(OpenDataFiles.MAX_OPEN + 1, filesByRegion.size());
    assertEquals(regions.size(), files.stream().mapToLong(f -> f.dataFile().recordCount()).sum());
  }

  /**
   * A position delete file names its one data file in its file_path bounds, so that a reader's
   * scan planning attaches it to that file only. With Iceberg's default metrics (truncate(16))
   * the bounds were 16 characters of the path, and every data file of the table carried it.
   */
  @Test
  void aPositionDeleteFileIsPlannedWithTheDataFileItNamesOnly() throws IOException {
    Table table = table();
    DataFile first = TableFiles.writeData(table, "t", "run", ROW, List.of("id"), rows("a", "b")).get(0).dataFile();
    DataFile second = TableFiles.writeData(table, "t", "run", ROW, List.of("id"), rows("c")).get(0).dataFile();
    table.newAppend().appendFile(first).appendFile(second).commit();
    List<WrittenFile> deletes = TableFiles.writeDeletes(table, "t", "run2",
        List.of(new RowPosition(first.path().toString(), 1)), DataFilePartitions.of(tasks(table)));
    RowDelta delta = table.newRowDelta();
    deletes.forEach(d -> delta.addDeletes(d.deleteFile()));
    delta.commit();
    Map<String, Integer> deletesByFile = new TreeMap<>();
    for (FileScanTask task : tasks(table)) {
      deletesByFile.put(task.file().path().toString().equals(first.path().toString()) ? "first" : "second", task.deletes().size());
    }
    assertEquals(Map.of("first", 1, "second", 0), deletesByFile);
  }

  private static List<FileScanTask> tasks(Table table) throws IOException {
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      List<FileScanTask> out = new ArrayList<>();
      tasks.forEach(out::add);
      return out;
    }
  }

  private Table table() {
    Warehouse warehouse = new Warehouse(CatalogConfig.hadoop(dir.toString()));
    return warehouse.create(new Destination("main", "example", "rows"), TableSchemas.toIceberg(ROW, List.of("id")), Map.of());
  }

  private static List<GenericRecord> rows(String... regions) {
    List<GenericRecord> rows = new ArrayList<>();
    for (int i = 0; i < regions.length; i++) {
      GenericRecord row = new GenericData.Record(ROW);
      row.put("id", "id-" + i);
      row.put("region", regions[i]);
      rows.add(row);
    }
    return rows;
  }

  /** Each file as its spec, partition values and row count, sorted. */
  private static List<String> described(List<WrittenFile> files) {
    List<String> out = new ArrayList<>();
    for (WrittenFile f : files) {
      DataFile file = f.dataFile();
      List<Object> values = new ArrayList<>();
      for (int i = 0; i < file.partition().size(); i++) {
        values.add(file.partition().get(i, Object.class));
      }
      out.add(file.specId() + " " + values + " " + file.recordCount());
    }
    out.sort(null);
    return out;
  }
}
