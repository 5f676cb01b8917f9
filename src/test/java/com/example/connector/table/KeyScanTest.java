package com.example.connector.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.IcebergFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.ColumnPath;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.internal.column.columnindex.OffsetIndex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A committed file read column by column ({@link KeyScan}): the rows a key test keeps, of one key
 * column or two, their position deletes applied, every column as the pipeline's Avro rows hold it
 * (nulls, a dictionary-encoded column), over many row groups each read as its own part of the
 * file; and the files it leaves to Iceberg's reader. Expected rows are built from the rows
 * written, not read back.
 */
class KeyScanTest {
  private static final Schema SCHEMA = new Schema(
      Types.NestedField.required(1, "id", Types.StringType.get()),
      Types.NestedField.optional(2, "n", Types.LongType.get()),
      Types.NestedField.optional(3, "score", Types.DoubleType.get()),
      Types.NestedField.optional(4, "day", Types.DateType.get()),
      Types.NestedField.optional(5, "at", Types.TimestampType.withZone()),
      Types.NestedField.optional(6, "name", Types.StringType.get()));
  /** The rows' Avro form: the table's columns, a position and a field the caller fills. */
  private static final org.apache.avro.Schema ROW = SchemaBuilder.record("row").fields()
      .requiredString("id").optionalLong("n").optionalDouble("score").optionalInt("day").optionalLong("at")
      .optionalString("name").requiredLong("_pos").optionalString("_file").endRecord();
  private static final OffsetDateTime EPOCH = OffsetDateTime.of(1970, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);
  private static final int ROWS = 300;
  private static final Set<Long> DELETED = Set.of(4L, 40L, 41L, 299L);

  @TempDir Path warehouse;

  @Test
  void readsTheKeptLiveRowsOfEveryRowGroupWithTheirPositions() throws IOException {
    Table table = table(Map.of(
        // row groups of about ten rows: the size is checked every ten rows
        "write.parquet.row-group-size-bytes", "64",
        "write.parquet.row-group-check-min-record-count", "10",
        "write.parquet.row-group-check-max-record-count", "10"));
    DataFile data = write(table);
    table.newRowDelta().addDeletes(IcebergFiles.positionDeletes(table, data, 4, 40, 41, 299)).commit();
    Predicate<List<Object>> keep = key -> ((String) key.get(0)).hashCode() % 3 == 0;

    List<FileScanTask> rowGroups = new ArrayList<>();
    task(table).split(1).forEach(rowGroups::add);
    assertTrue(rowGroups.size() >= 20, "many row groups, each read on its own: " + rowGroups.size());
    List<String> read = new ArrayList<>();
    for (FileScanTask rowGroup : rowGroups) {
      assertTrue(KeyScan.read(new CommittedRead(table), rowGroup, KeyScan.Part.WHOLE, ROW, List.of("id"), keep, row -> read.add(describe(row))));
    }

    List<String> expected = expectedRows(keep);
    assertTrue(expected.size() > 50);
    assertEquals(expected, read);

    // a key of two columns, the first of them null in some rows
    List<String> readByTwo = new ArrayList<>();
    for (FileScanTask rowGroup : rowGroups) {
      assertTrue(KeyScan.read(new CommittedRead(table), rowGroup, KeyScan.Part.WHOLE, ROW, List.of("n", "name"), key -> key.get(0) == null,
          row -> readByTwo.add(row.get("id") + " " + row.get("name") + "@" + row.get("_pos"))));
    }
    List<String> expectedByTwo = new ArrayList<>();
    for (int i = 0; i < ROWS; i += 5) {
      if (!DELETED.contains((long) i)) {
        expectedByTwo.add(id(i) + " " + name(i) + "@" + i);
      }
    }
    assertEquals(expectedByTwo, readByTwo);
  }

  /**
   * One row group of many pages, each column's ending at rows of its own, read in 1 to 40 parts
   * (more parts than the key column has pages: some hold none): together they hold every kept live
   * row once, in order, with its position and every column's value, and each part that has a page
   * holds rows.
   */
  @Test
  void aRowGroupsPartsHoldEachKeptLiveRowOnce() throws IOException {
    Table table = table(Map.of(
        // pages of 64 bytes, checked at every row: each column's pages end where its values fill one
        "write.parquet.page-size-bytes", "64",
        "write.parquet.row-group-check-min-record-count", "1", "write.parquet.row-group-check-max-record-count", "1"));
    DataFile data = write(table);
    table.newRowDelta().addDeletes(IcebergFiles.positionDeletes(table, data, 4, 40, 41, 299)).commit();
    Predicate<List<Object>> keep = key -> ((String) key.get(0)).hashCode() % 3 != 0;
    List<String> expected = expectedRows(keep);
    FileScanTask task = task(table);
    List<Long> keyPages = pageStarts(task, "id");
    assertTrue(keyPages.size() >= 20, "key pages: " + keyPages);
    assertNotEquals(keyPages, pageStarts(task, "at"), "the columns' pages end apart");
    for (int count : new int[] {1, 2, 3, 7, 20, 40, 80}) {
      CommittedRead committed = new CommittedRead(table);
      List<String> read = new ArrayList<>();
      int partsWithRows = 0;
      for (int index = 0; index < count; index++) {
        List<String> part = new ArrayList<>();
        assertTrue(KeyScan.read(committed, task, new KeyScan.Part(index, count), ROW, List.of("id"), keep,
            row -> part.add(describe(row))));
        partsWithRows += part.isEmpty() ? 0 : 1;
        read.addAll(part);
      }
      assertEquals(expected, read, count + " parts");
      assertEquals(Math.min(count, keyPages.size()), partsWithRows, count + " parts of " + keyPages.size() + " pages");
    }
  }

  /**
   * A read's parts share its deletes: the delete files are read once, by the first part (they are
   * gone from disk when the others read, which still apply them), and a new read reads them again.
   */
  @Test
  void aReadsPartsReadItsDeleteFilesOnce() throws IOException {
    Table table = table(Map.of("write.parquet.page-row-limit", "10"));
    DataFile data = write(table);
    DeleteFile deletes = IcebergFiles.positionDeletes(table, data, 4, 40, 41, 299);
    table.newRowDelta().addDeletes(deletes).commit();
    FileScanTask task = task(table);
    CommittedRead committed = new CommittedRead(table);
    List<Long> read = new ArrayList<>();
    Consumer<GenericRecord> positions = row -> read.add((Long) row.get("_pos"));
    assertTrue(KeyScan.read(committed, task, new KeyScan.Part(0, 3), ROW, List.of("id"), k -> true, positions));
    java.nio.file.Files.delete(Path.of(deletes.path().toString()));
    assertTrue(KeyScan.read(committed, task, new KeyScan.Part(1, 3), ROW, List.of("id"), k -> true, positions));
    assertTrue(KeyScan.read(committed, task, new KeyScan.Part(2, 3), ROW, List.of("id"), k -> true, positions));

    List<Long> live = new ArrayList<>();
    for (long i = 0; i < ROWS; i++) {
      if (!DELETED.contains(i)) {
        live.add(i);
      }
    }
    assertEquals(live, read);
    assertThrows(org.apache.iceberg.exceptions.NotFoundException.class, () -> KeyScan.read(new CommittedRead(table),
        task, KeyScan.Part.WHOLE, ROW, List.of("id"), k -> true, row -> {}));
  }

  @Test
  void anIntColumnPromotedToLongIsReadAsLongs() throws IOException {
    Schema ints = new Schema(Types.NestedField.required(1, "id", Types.StringType.get()),
        Types.NestedField.optional(2, "n", Types.IntegerType.get()));
    Table table = new HadoopCatalog(new org.apache.hadoop.conf.Configuration(), warehouse.toString())
        .createTable(TableIdentifier.of("db", "ints"), ints, PartitionSpec.unpartitioned(), Map.of("format-version", "2"));
    List<Record> rows = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Record r = org.apache.iceberg.data.GenericRecord.create(ints);
      r.setField("id", "k" + i);
      r.setField("n", i == 1 ? null : i * 7);
      rows.add(r);
    }
    table.newAppend().appendFile(IcebergFiles.dataFile(table, rows)).commit();
    table.updateSchema().updateColumn("n", Types.LongType.get()).commit();
    org.apache.avro.Schema row = SchemaBuilder.record("row").fields().requiredString("id").optionalLong("n")
        .requiredLong("_pos").endRecord();

    List<Object> read = new ArrayList<>();
    assertTrue(KeyScan.read(new CommittedRead(table), task(table), KeyScan.Part.WHOLE, row, List.of("id"), key -> true, r -> read.add(r.get("n"))));
    assertEquals(java.util.Arrays.asList(0L, null, 14L), read);
  }

  @Test
  void leavesAnotherEnginesEqualityDeletesToIcebergsReader() throws IOException {
    Table table = table(Map.of());
    write(table);
    Schema idOnly = SCHEMA.select("id");
    Record key = org.apache.iceberg.data.GenericRecord.create(idOnly);
    key.setField("id", id(7));
    table.newRowDelta().addDeletes(IcebergFiles.equalityDeletes(table, idOnly, List.of(key))).commit();

    List<GenericRecord> read = new ArrayList<>();
    assertFalse(KeyScan.read(new CommittedRead(table), task(table), KeyScan.Part.WHOLE, ROW, List.of("id"), k -> true, read::add));
    assertEquals(List.of(), read);
  }

  @Test
  void leavesAFileWithoutAColumnOfTheRowsToIcebergsReader() throws IOException {
    Table table = table(Map.of());
    write(table);
    table.updateSchema().addColumn("added", Types.StringType.get()).commit();
    org.apache.avro.Schema withAdded = SchemaBuilder.record("row").fields().requiredString("id")
        .optionalString("added").requiredLong("_pos").endRecord();

    List<GenericRecord> read = new ArrayList<>();
    assertFalse(KeyScan.read(new CommittedRead(table), task(table), KeyScan.Part.WHOLE, withAdded, List.of("id"), k -> true, read::add));
    assertEquals(List.of(), read);
  }

  private Table table(Map<String, String> properties) {
    Map<String, String> all = new java.util.HashMap<>(properties);
    all.put("format-version", "2");
    return new HadoopCatalog(new org.apache.hadoop.conf.Configuration(), warehouse.toString())
        .createTable(TableIdentifier.of("db", "t"), SCHEMA, PartitionSpec.unpartitioned(), all);
  }

  /** {@value #ROWS} rows, a null in each optional column now and then; one committed file. */
  private static DataFile write(Table table) {
    List<Record> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      Record r = org.apache.iceberg.data.GenericRecord.create(SCHEMA);
      r.setField("id", id(i));
      r.setField("n", i % 5 == 0 ? null : i * 1000L);
      r.setField("score", i % 7 == 0 ? null : i / 4.0);
      r.setField("day", i % 3 == 0 ? null : LocalDate.ofEpochDay(19000 + i));
      r.setField("at", i % 11 == 0 ? null : EPOCH.plusSeconds(i));
      r.setField("name", name(i));
      rows.add(r);
    }
    DataFile data = IcebergFiles.dataFile(table, rows);
    table.newAppend().appendFile(data).commit();
    return data;
  }

  /** A few names over and over: a dictionary-encoded column. */
  private static String name(int i) {
    return i % 2 == 0 ? null : "name " + i % 3;
  }

  /** Keys of ASCII and of other characters (a string's UTF-8 bytes are not its characters). */
  private static String id(int i) {
    return (i % 10 == 3 ? "ключ-" : "key-") + i;
  }

  /** The first row of each page of {@code column} in the task's file, one row group, as its offset index lists them. */
  private static List<Long> pageStarts(FileScanTask task, String column) throws IOException {
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(
        new org.apache.hadoop.fs.Path(task.file().path().toString()), new org.apache.hadoop.conf.Configuration()))) {
      assertEquals(1, reader.getRowGroups().size());
      OffsetIndex pages = reader.getColumnIndexStore(0).getOffsetIndex(ColumnPath.get(column));
      List<Long> starts = new ArrayList<>();
      for (int i = 0; i < pages.getPageCount(); i++) {
        starts.add(pages.getFirstRowIndex(i));
      }
      return starts;
    }
  }

  /** The live rows {@link #write} wrote whose key {@code keep} keeps, as {@link #describe} gives them. */
  private static List<String> expectedRows(Predicate<List<Object>> keep) {
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      if (!DELETED.contains((long) i) && keep.test(List.of(id(i)))) {
        expected.add(id(i) + "|" + (i % 5 == 0 ? null : i * 1000L) + "|" + (i % 7 == 0 ? null : i / 4.0) + "|"
            + (i % 3 == 0 ? null : 19000 + i) + "|" + (i % 11 == 0 ? null : i * 1_000_000L) + "|"
            + name(i) + "@" + i + " file null");
      }
    }
    return expected;
  }

  private static FileScanTask task(Table table) throws IOException {
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      return tasks.iterator().next();
    }
  }

  private static String describe(GenericRecord row) {
    return row.get("id") + "|" + row.get("n") + "|" + row.get("score") + "|" + row.get("day") + "|" + row.get("at")
        + "|" + row.get("name") + "@" + row.get("_pos") + " file " + row.get("_file");
  }
}
