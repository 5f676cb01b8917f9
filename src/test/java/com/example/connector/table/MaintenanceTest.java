package com.example.connector.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.IcebergFiles;
import com.example.connector.table.Maintenance.Report;
import com.example.connector.table.Maintenance.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaintenanceTest {
  private static final Schema SCHEMA =
      new Schema(
          Types.NestedField.required(1, "id", Types.LongType.get()),
          Types.NestedField.optional(2, "name", Types.StringType.get()));

  private static final String CURSOR = "example.cursor.records";
  private static final String CURSOR_VALUE = "2024-05-01T12:00:00.000000+00:00";

  /** Rows of ids 1 to 30 but 5 and 17, the rows {@link #tenAppendsAndADelete} leaves. */
  private static final List<String> TWENTY_EIGHT_ROWS =
      List.of(
          "1=row-1", "2=row-2", "3=row-3", "4=row-4", "6=row-6", "7=row-7", "8=row-8",
          "9=row-9", "10=row-10", "11=row-11", "12=row-12", "13=row-13", "14=row-14",
          "15=row-15", "16=row-16", "18=row-18", "19=row-19", "20=row-20", "21=row-21",
          "22=row-22", "23=row-23", "24=row-24", "25=row-25", "26=row-26", "27=row-27",
          "28=row-28", "29=row-29", "30=row-30");

  /** A target of one byte: no file is smaller than 75% of it, so nothing is compacted. */
  private static final long NO_COMPACTION = 1;

  @TempDir Path warehouse;
  private HadoopCatalog catalog;

  @BeforeEach
  void openCatalog() {
    catalog = new HadoopCatalog(new Configuration(), warehouse.toString());
  }

  @AfterEach
  void closeCatalog() throws IOException {
    catalog.close();
  }

  /**
   * A table its owner partitioned by a date or a timestamp column itself ({@code identity}): the
   * compaction's reader gave those columns Iceberg's internal values (days, microseconds), which
   * its writer could not take, and maintenance of the table failed every time.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"day", "at"})
  void aTablePartitionedByADateOrATimestampColumnIsCompacted(String column) throws IOException {
    Schema schema = new Schema(
        Types.NestedField.required(1, "id", Types.LongType.get()),
        Types.NestedField.optional(2, "day", Types.DateType.get()),
        Types.NestedField.optional(3, "at", Types.TimestampType.withZone()));
    Table table = catalog.createTable(TableIdentifier.of("db", "by_" + column), schema,
        PartitionSpec.builderFor(schema).identity(column).build(), Map.of("format-version", "2"));
    for (long id = 1; id <= 3; id++) {
      Record row = GenericRecord.create(schema);
      row.setField("id", id);
      row.setField("day", java.time.LocalDate.of(2024, 5, 1));
      row.setField("at", java.time.OffsetDateTime.of(2024, 5, 1, 12, 0, 0, 0, ZoneOffset.UTC));
      org.apache.iceberg.PartitionKey key = new org.apache.iceberg.PartitionKey(table.spec(), schema);
      key.partition(new org.apache.iceberg.data.InternalRecordWrapper(schema.asStruct()).wrap(row));
      org.apache.iceberg.io.DataWriter<Record> writer = Parquet.writeData(table.io().newOutputFile(
              table.locationProvider().newDataLocation(table.spec(), key, UUID.randomUUID() + ".parquet")))
          .forTable(table).withSpec(table.spec()).withPartition(key)
          .createWriterFunc(org.apache.iceberg.data.parquet.GenericParquetWriter::buildWriter).overwrite().build();
      try (writer) {
        writer.write(row);
      }
      table.newAppend().appendFile(writer.toDataFile()).commit();
    }

    Report report = Maintenance.maintain(table, Settings.defaults(), Clock.systemUTC());

    assertEquals(1, report.dataFilesAfter(), report.describe());
    table.refresh();
    assertEquals(List.of("1 2024-05-01 2024-05-01T12:00Z", "2 2024-05-01 2024-05-01T12:00Z",
        "3 2024-05-01 2024-05-01T12:00Z"), IcebergFiles.rows(table).stream()
            .map(r -> r.getField("id") + " " + r.getField("day") + " " + r.getField("at")).sorted().toList());
  }

  @Test
  void compactionRewritesDataAndDeleteFilesIntoOneFileKeepingRowsAndCursor() throws IOException {
    Table table = tenAppendsAndADelete("events");
    assertEquals("10", summary(table, "total-data-files"));
    assertEquals("1", summary(table, "total-delete-files"));

    Report report = Maintenance.maintain(table, Settings.defaults(), Clock.systemUTC());

    table.refresh();
    assertEquals("1", summary(table, "total-data-files"));
    assertEquals("0", summary(table, "total-delete-files"));
    assertEquals(TWENTY_EIGHT_ROWS, rows(table));
    Snapshot newest = table.currentSnapshot();
    assertEquals("replace", newest.operation());
    assertEquals(CURSOR_VALUE, newest.summary().get(CURSOR));
    assertEquals(10, report.dataFilesBefore());
    assertEquals(1, report.deleteFilesBefore());
    assertEquals(1, report.dataFilesAfter());
    assertEquals(0, report.deleteFilesAfter());
    assertEquals(0, report.snapshotsExpired());
    assertEquals(List.of(), report.orphansRemoved());
    assertEquals(
        table.name() + ": data files 10 -> 1, delete files 1 -> 0, 0 snapshots expired, 0 orphan"
            + " files removed",
        report.describe());
  }

  @Test
  void compactionRollsFilesAtTheTargetSize() throws IOException {
    Table table = createTable("wide");
    List<String> expected = new ArrayList<>();
    for (int append = 0; append < 10; append++) {
      List<Record> rows = new ArrayList<>();
      for (long id = append * 100L + 1; id <= append * 100L + 100; id++) {
        String name = "row-" + id + "-" + UUID.nameUUIDFromBytes(Long.toString(id).getBytes());
        rows.add(row(id, name));
        expected.add(id + "=" + name);
      }
      table.newAppend().appendFile(IcebergFiles.dataFile(table, rows)).commit();
    }

    Settings eightKb = new Settings(8 * 1024, Duration.ofDays(7), 5, Duration.ofDays(3), false);
    Report report = Maintenance.maintain(table, eightKb, Clock.systemUTC());

    table.refresh();
    assertEquals(10, report.dataFilesBefore());
    int files = Integer.parseInt(summary(table, "total-data-files"));
    assertTrue(files > 1, "one file of 1000 rows of over 40 bytes each for an 8 KB target");
    assertEquals(files, report.dataFilesAfter());
    assertEquals(expected, rows(table));
    List<Long> sizes = new ArrayList<>();
    table.newScan().planFiles().forEach(task -> sizes.add(task.file().fileSizeInBytes()));
    assertTrue(
        sizes.stream().filter(size -> size < 6 * 1024).count() <= 1,
        "only the last file is under 75% of the target: " + sizes);

    long compacted = table.currentSnapshot().snapshotId();
    Maintenance.maintain(table, eightKb, Clock.systemUTC());
    table.refresh();
    assertEquals(compacted, table.currentSnapshot().snapshotId(), "compacted files are not compacted again");
  }

  /**
   * A run's append during the compaction (a continuous run commits every few seconds, quicker than
   * a large table is rewritten): the compaction lands on top of it, as Iceberg's own rewrite does;
   * it gave up every time, and such a table was never compacted. It carries the run's cursors on,
   * not the older ones of the snapshot it read.
   */
  @Test
  void anAppendDuringCompactionIsKeptAndTheCompactionLandsOnTopOfIt() throws IOException {
    Table table = tenAppendsAndADelete("orders");
    // Another process: its own Table object, refreshed from the catalog.
    Table ingestion = catalog.loadTable(TableIdentifier.of("db", "orders"));
    String newer = "2024-05-01T12:00:10.000000+00:00";
    Runnable ingestionCommits = () -> ingestion.newAppend()
        .appendFile(IcebergFiles.dataFile(ingestion, List.of(row(31, "row-31"), row(32, "row-32"))))
        .set(SnapshotSummary.RUN_ID, "run-2").set(CURSOR, newer).commit();

    Report report = Maintenance.maintain(table, Settings.defaults(), Clock.systemUTC(), ingestionCommits);

    table.refresh();
    assertEquals("replace", table.currentSnapshot().operation());
    assertEquals(2, report.dataFilesAfter(), "the compacted file and the append's");
    assertEquals(0, report.deleteFilesAfter());
    List<String> expected = new ArrayList<>(TWENTY_EIGHT_ROWS);
    expected.addAll(List.of("31=row-31", "32=row-32"));
    assertEquals(expected, rows(table));
    assertEquals(newer, summary(table, CURSOR), "the run's cursor, not the one before it");
    assertEquals("run-2", SnapshotSummary.runId(table.currentSnapshot()));
  }

  /**
   * A merge committing a position delete against a file the compaction replaces: the compaction
   * gives up (the rewritten file still holds the row), the row stays deleted, and the compaction's
   * files are gone.
   */
  @Test
  void aDeleteFromAReplacedFileDuringCompactionFailsItLeavingTheRowDeleted() throws IOException {
    Table table = tenAppendsAndADelete("accounts");
    Table ingestion = catalog.loadTable(TableIdentifier.of("db", "accounts"));
    Runnable mergeDeletesId1 = () -> deleteFirstRowOfFirstFile(ingestion);

    IllegalStateException failure = assertThrows(IllegalStateException.class,
        () -> Maintenance.maintain(table, Settings.defaults(), Clock.systemUTC(), mergeDeletesId1));

    assertTrue(failure.getMessage().contains(table.name()), failure.getMessage());
    assertTrue(failure.getMessage().contains("run maintenance again"), failure.getMessage());
    table.refresh();
    assertEquals("delete", table.currentSnapshot().operation(), "the merge's");
    assertEquals(TWENTY_EIGHT_ROWS.subList(1, TWENTY_EIGHT_ROWS.size()), rows(table));
    try (Stream<Path> files = Files.walk(tableDir("accounts"))) {
      assertEquals(List.of(), files.filter(f -> f.getFileName().toString().contains("maint-")).toList());
    }
    // Nor are the failed commits' manifests left: nothing under the table is unreferenced.
    Settings everyFileIsOldEnough = new Settings(0, Duration.ofDays(7), 5, Duration.ZERO, true);
    Clock aMinuteLater = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(1));
    Report dryRun = Maintenance.maintain(table, everyFileIsOldEnough, aMinuteLater);
    assertEquals(List.of(), dryRun.orphansRemoved());
  }

  /** As a position delete: another engine's equality delete of a row the compaction rewrites. */
  @Test
  void anEqualityDeleteDuringCompactionFailsItLeavingTheRowDeleted() throws IOException {
    Table table = tenAppendsAndADelete("payments");
    Table ingestion = catalog.loadTable(TableIdentifier.of("db", "payments"));
    Runnable upsertDeletesId1 = () -> {
      EqualityDeleteWriter<Record> writer;
      try {
        writer = Parquet.writeDeletes(newFile(ingestion, "eq-deletes-")).forTable(ingestion)
            .rowSchema(SCHEMA.select("id")).withSpec(ingestion.spec()).equalityFieldIds(1)
            .createWriterFunc(org.apache.iceberg.data.parquet.GenericParquetWriter::buildWriter)
            .overwrite().buildEqualityWriter();
        try (writer) {
          Record id = GenericRecord.create(SCHEMA.select("id"));
          id.setField("id", 1L);
          writer.write(id);
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      ingestion.newRowDelta().addDeletes(writer.toDeleteFile()).commit();
    };

    assertThrows(IllegalStateException.class,
        () -> Maintenance.maintain(table, Settings.defaults(), Clock.systemUTC(), upsertDeletesId1));

    table.refresh();
    assertEquals(TWENTY_EIGHT_ROWS.subList(1, TWENTY_EIGHT_ROWS.size()), rows(table));
  }

  /**
   * A table a continuous run commits to every few seconds: a compaction longer than that loses the
   * race every time. Its snapshots must still expire and its orphan files go, or maintenance never
   * does either (8,640 snapshots a day kept, each with its manifests).
   */
  @Test
  void aCompactionThatGivesUpStillExpiresSnapshotsAndRemovesOrphans() throws IOException {
    Table table = tenAppendsAndADelete("clicks");
    Instant now = Instant.now();
    ageEveryFile(tableDir("clicks"), now.minus(Duration.ofDays(10)));
    Path oldStray = stray(tableDir("clicks").resolve("data/stray-old.parquet"), now.minus(Duration.ofDays(4)));
    Table ingestion = catalog.loadTable(TableIdentifier.of("db", "clicks"));
    Runnable mergeDeletesId1 = () -> deleteFirstRowOfFirstFile(ingestion);
    Settings retainThree = new Settings(0, Duration.ofDays(7), 3, Duration.ofDays(3), false);
    Clock nextYear = Clock.offset(Clock.systemUTC(), Duration.ofDays(365));

    IllegalStateException failure = assertThrows(IllegalStateException.class,
        () -> Maintenance.maintain(table, retainThree, nextYear, mergeDeletesId1));

    assertTrue(failure.getMessage().contains("run maintenance again"), failure.getMessage());
    table.refresh();
    List<Snapshot> left = new ArrayList<>();
    table.snapshots().forEach(left::add);
    assertEquals(3, left.size(), "12 snapshots (11 and the merge's), the last 3 kept");
    assertEquals("delete", table.currentSnapshot().operation(), "the merge's, not a compaction");
    assertFalse(Files.exists(oldStray));
    assertEquals(TWENTY_EIGHT_ROWS.subList(1, TWENTY_EIGHT_ROWS.size()), rows(table));
  }

  @Test
  void expiryRemovesSnapshotsOlderThanTheAgeButKeepsTheLastOnes() throws IOException {
    Table table = createTable("users");
    List<String> expected = new ArrayList<>();
    for (int append = 0; append < 8; append++) {
      table.newAppend().appendFile(IcebergFiles.dataFile(table, List.of(row(append, "row-" + append)))).commit();
      expected.add(append + "=row-" + append);
    }
    long newest = table.currentSnapshot().snapshotId();
    Clock nextYear = Clock.offset(Clock.systemUTC(), Duration.ofDays(365));
    Settings retainThree = new Settings(NO_COMPACTION, Duration.ofDays(7), 3, Duration.ofDays(3), false);

    Report report = Maintenance.maintain(table, retainThree, nextYear);

    assertEquals(5, report.snapshotsExpired());
    table.refresh();
    List<Snapshot> left = new ArrayList<>();
    table.snapshots().forEach(left::add);
    assertEquals(3, left.size());
    assertEquals(newest, table.currentSnapshot().snapshotId());
    assertEquals(expected, rows(table));
  }

  @Test
  void orphanRemovalDeletesOldUnreferencedFilesOnly() throws IOException {
    Table table = threeAppends("products");
    Instant now = Instant.now();
    Path dataDir = tableDir("products").resolve("data");
    ageEveryFile(tableDir("products"), now.minus(Duration.ofDays(10)));
    Path oldStray = stray(dataDir.resolve("stray-old.parquet"), now.minus(Duration.ofDays(4)));
    Path oldMetadataStray =
        stray(tableDir("products").resolve("metadata/stray.avro"), now.minus(Duration.ofDays(4)));
    Path freshStray = stray(dataDir.resolve("stray-fresh.parquet"), now.minus(Duration.ofDays(2)));
    List<Path> referenced = filesUnder(tableDir("products"));
    referenced.removeAll(List.of(oldStray, oldMetadataStray, freshStray));
    Settings settings = new Settings(NO_COMPACTION, Duration.ofDays(7), 5, Duration.ofDays(3), false);

    Report report = Maintenance.maintain(table, settings, Clock.fixed(now, ZoneOffset.UTC));

    assertEquals(
        List.of(oldStray.toString(), oldMetadataStray.toString()),
        report.orphansRemoved().stream().map(Maintenance::normalize).sorted().toList());
    assertFalse(Files.exists(oldStray));
    assertFalse(Files.exists(oldMetadataStray));
    assertTrue(Files.exists(freshStray));
    referenced.forEach(file -> assertTrue(Files.exists(file), file + " was removed"));
    table.refresh();
    assertEquals(List.of("1=row-1", "2=row-2", "3=row-3"), rows(table));
  }

  @Test
  void dryRunChangesNothingButReports() throws IOException {
    Table table = tenAppendsAndADelete("metrics");
    Instant now = Instant.now();
    ageEveryFile(tableDir("metrics"), now.minus(Duration.ofDays(10)));
    Path oldStray = stray(tableDir("metrics").resolve("data/stray-old.parquet"), now.minus(Duration.ofDays(4)));
    List<Path> filesBefore = filesUnder(tableDir("metrics"));
    long snapshotBefore = table.currentSnapshot().snapshotId();
    Settings dryRun = new Settings(0, Duration.ofDays(7), 3, Duration.ofDays(3), true);

    Report report = Maintenance.maintain(table, dryRun, Clock.offset(Clock.systemUTC(), Duration.ofDays(30)));

    assertEquals(
        List.of(oldStray.toString()),
        report.orphansRemoved().stream().map(Maintenance::normalize).toList());
    assertEquals(8, report.snapshotsExpired(), "11 snapshots, the last 3 kept");
    assertEquals(10, report.dataFilesAfter());
    assertEquals(1, report.deleteFilesAfter());
    assertEquals(
        table.name() + " (dry run, nothing changed): 10 data files, 1 delete files, which it would compact; before"
            + " that compaction, would expire 8 snapshots and remove 1 orphan files",
        report.describe());
    assertEquals(filesBefore, filesUnder(tableDir("metrics")));
    table.refresh();
    assertEquals(snapshotBefore, table.currentSnapshot().snapshotId());
    assertEquals(TWENTY_EIGHT_ROWS, rows(table));
  }

  @Test
  void locationsWithAndWithoutFileSchemeCompareEqual() {
    assertEquals("/w/db/t/data/a.parquet", Maintenance.normalize("file:/w/db/t/data/a.parquet"));
    assertEquals("/w/db/t/data/a.parquet", Maintenance.normalize("file:///w/db/t/data/a.parquet"));
    assertEquals("/w/db/t/data/a.parquet", Maintenance.normalize("/w/db/t/data/a.parquet"));
    assertEquals("/w/db/t/data/a.parquet", Maintenance.normalize("gs://bucket/w/db//t/data/a.parquet"));
  }

  private Table createTable(String name) {
    return catalog.createTable(
        TableIdentifier.of("db", name), SCHEMA, PartitionSpec.unpartitioned(), Map.of("format-version", "2"));
  }

  private Path tableDir(String name) {
    return warehouse.resolve("db").resolve(name);
  }

  /**
   * Ten appends of three rows, ids 1 to 30 named row-1 to row-30, the last append carrying a
   * cursor, then a commit of a position-delete file deleting ids 5 and 17.
   */
  private Table tenAppendsAndADelete(String name) throws IOException {
    Table table = createTable(name);
    List<DataFile> files = new ArrayList<>();
    for (int append = 0; append < 10; append++) {
      long first = append * 3L + 1;
      List<Record> rows = new ArrayList<>();
      for (long id = first; id < first + 3; id++) {
        rows.add(row(id, "row-" + id));
      }
      DataFile file = IcebergFiles.dataFile(table, rows);
      files.add(file);
      AppendFiles commit = table.newAppend().appendFile(file);
      if (append == 9) {
        commit.set(CURSOR, CURSOR_VALUE);
      }
      commit.commit();
    }
    // Id 5 is the second row of the second file, id 17 the second row of the sixth.
    List<PositionDelete<Record>> deletes =
        List.of(
            PositionDelete.<Record>create().set(files.get(1).path(), 1, null),
            PositionDelete.<Record>create().set(files.get(5).path(), 1, null));
    PositionDeleteWriter<Record> writer =
        Parquet.writeDeletes(newFile(table, "deletes-"))
            .withSpec(table.spec())
            .overwrite()
            .buildPositionWriter();
    try (writer) {
      deletes.stream()
          .sorted(Comparator.comparing(d -> d.path().toString()))
          .forEach(writer::write);
    }
    table.newRowDelta().addDeletes(writer.toDeleteFile()).commit();
    return table;
  }

  /** A merge's commit: a position delete of id 1, the first row of the table's first file. */
  private static void deleteFirstRowOfFirstFile(Table table) {
    Snapshot firstAppend = org.apache.iceberg.util.SnapshotUtil.oldestAncestor(table);
    String path = firstAppend.addedDataFiles(table.io()).iterator().next().path().toString();
    PositionDeleteWriter<Record> writer;
    try {
      writer = Parquet.writeDeletes(newFile(table, "deletes-")).withSpec(table.spec()).overwrite().buildPositionWriter();
      try (writer) {
        writer.write(PositionDelete.<Record>create().set(path, 0, null));
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    table.newRowDelta().addDeletes(writer.toDeleteFile()).commit();
  }

  private Table threeAppends(String name) {
    Table table = createTable(name);
    for (long id = 1; id <= 3; id++) {
      table.newAppend().appendFile(IcebergFiles.dataFile(table, List.of(row(id, "row-" + id)))).commit();
    }
    return table;
  }

  private static OutputFile newFile(Table table, String prefix) {
    return table.io().newOutputFile(
        table.locationProvider().newDataLocation(prefix + UUID.randomUUID() + ".parquet"));
  }

  private static Record row(long id, String name) {
    Record row = GenericRecord.create(SCHEMA);
    row.setField("id", id);
    row.setField("name", name);
    return row;
  }

  /** The table's rows as "id=name", by id. */
  private static List<String> rows(Table table) throws IOException {
    return IcebergFiles.rows(table).stream()
        .sorted(Comparator.comparing(r -> (Long) r.getField("id")))
        .map(r -> r.getField("id") + "=" + r.getField("name"))
        .toList();
  }

  private static String summary(Table table, String property) {
    return table.currentSnapshot().summary().get(property);
  }

  private static void ageEveryFile(Path dir, Instant modified) throws IOException {
    for (Path file : filesUnder(dir)) {
      Files.setLastModifiedTime(file, FileTime.from(modified));
    }
  }

  private static Path stray(Path file, Instant modified) throws IOException {
    Files.write(file, new byte[] {1, 2, 3});
    Files.setLastModifiedTime(file, FileTime.from(modified));
    return file;
  }

  /** The files under a directory, sorted; Hadoop's checksum files (.name.crc) left out. */
  private static List<Path> filesUnder(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return new ArrayList<>(
          files
              .filter(Files::isRegularFile)
              .filter(f -> !f.getFileName().toString().endsWith(".crc"))
              .sorted()
              .toList());
    }
  }
}
