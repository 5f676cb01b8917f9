package com.example.connector.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.IcebergFiles;
import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.ScdType;
import com.example.connector.table.CatalogConfig;
import com.example.connector.table.CommitTables;
import com.example.connector.table.DataFilePartitions;
import com.example.connector.table.Destination;
import com.example.connector.table.RunCommit;
import com.example.connector.table.TableCommit;
import com.example.connector.table.TableCommitter;
import com.example.connector.table.TableSchemas;
import com.example.connector.table.TableTarget;
import com.example.connector.table.Warehouse;
import com.example.connector.table.WriteDataFiles;
import com.example.connector.table.WritePositionDeletes;
import com.example.connector.table.WrittenFile;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.joda.time.Duration;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The merge against a real Iceberg table (a Hadoop catalog in a temporary directory): committed
 * rows written with Iceberg's own writer, the merge's inserts and position deletes written and
 * committed by the pipeline's own transforms, the table read back with Iceberg's generic reader.
 * On the DirectRunner and on Flink embedded, in many buckets and in one bucket larger than the
 * 10,000 rows after which Beam's CoGroupByKey re-reads a group (which Flink's batch groups
 * refuse). And what a run costs: the files it reads and writes for the keys it changed.
 */
class MergeChangesTest {
  private static final Schema FEED = TestUsers.FEED;
  private static final MergeRule SCD1 = new MergeRule(ScdType.SCD_TYPE_1, List.of("user_id"), "updated_at", false);
  private static final Schema TABLE = SCD1.tableSchema(FEED);
  private static final Destination USERS = new Destination("main", "example", "users");
  private static final String AT = "2024-03-01T00:00:00Z";
  /** A mebibyte: the sizes of the files the row-group tests list. */
  private static final long MB = 1L << 20;

  @TempDir Path dir;

  static Stream<Arguments> layouts() {
    return Stream.of(
        Arguments.of("DirectRunner", 1_000L),
        Arguments.of("FlinkRunner", 1_000L),
        Arguments.of("FlinkRunner", 1_000_000L));
  }

  /**
   * Users u0..u11999 committed with email e{i} at 100 (in 4 data files). The run updates
   * u0..u7999 to new{i} at 200, deletes u8000..u8999 at 200, inserts u12000..u12499 as e{i} at
   * 200, and reads a stale change of u9000 at 50 (older than its committed row: no effect).
   */
  @ParameterizedTest
  @MethodSource("layouts")
  void mergesEveryKeyWhateverTheBuckets(String runner, long rowsPerBucket) {
    TableTarget target = new TableTarget(CatalogConfig.hadoop(dir.toString()), USERS);
    Table table = create(target, List.of("user_id"));
    AppendFiles append = table.newAppend();
    for (int f = 0; f < 4; f++) {
      List<String> ids = new ArrayList<>();
      for (int i = f * 3_000; i < (f + 1) * 3_000; i++) {
        ids.add("u" + i);
      }
      append.appendFile(dataFile(table, ids, 100));
    }
    append.commit();
    long base = target.load().currentSnapshot().snapshotId();

    List<GenericRecord> changes = new ArrayList<>();
    for (int i = 0; i < 8_000; i++) {
      changes.add(TestUsers.change("u" + i, "new" + i, 200));
    }
    for (int i = 8_000; i < 9_000; i++) {
      changes.add(TestUsers.change("u" + i, null, 200));
    }
    for (int i = 12_000; i < 12_500; i++) {
      changes.add(TestUsers.change("u" + i, "e" + i, 200));
    }
    changes.add(TestUsers.change("u9000", "stale", 50));

    PipelineResult result = mergeAndCommit(runner, target, base, changes, rowsPerBucket, "run-2");

    Map<String, String> expected = new TreeMap<>();
    for (int i = 0; i < 12_500; i++) {
      if (i < 8_000) {
        expected.put("u" + i, "new" + i + "@200");
      } else if (i >= 9_000) {
        expected.put("u" + i, "e" + i + "@" + (i < 12_000 ? 100 : 200));
      }
    }
    assertEquals(11_500, expected.size(), "8,000 updated + 3,000 untouched + 500 inserted");
    assertRows(expected, target.load());
    assertEquals(8_500, counter(result, "rows_inserted"), "8,000 new versions and 500 new users");
    assertEquals(9_000, counter(result, "rows_deleted"), "8,000 replaced and 1,000 deleted rows");
    Map<String, String> summary = target.load().currentSnapshot().summary();
    assertEquals("run-2", summary.get("example.run-id"));
    assertEquals("8500", summary.get("added-records"));
    assertEquals("9000", summary.get("added-position-deletes"));
  }

  /**
   * 20 data files of 500 users each, with disjoint key ranges: a run changing one user reads the
   * one file whose key range holds it and writes one data file and one position delete file. A
   * run that reads the same change again replaces the row all the same (the merge read only the
   * committed row's key and sequence, and a change of an equal sequence outranks it), at the
   * same cost; a run without changes writes nothing.
   */
  @Test
  void aRunCostsTheFilesOfTheKeysItChanges() {
    TableTarget target = new TableTarget(CatalogConfig.hadoop(dir.toString()), USERS);
    Table table = create(target, List.of("user_id"));
    Map<String, String> expected = new TreeMap<>();
    for (int f = 0; f < 20; f++) {
      List<String> ids = new ArrayList<>();
      for (int i = f * 500; i < (f + 1) * 500; i++) {
        String id = String.format("u%05d", i);
        ids.add(id);
        expected.put(id, "e" + id.substring(1) + "@100");
      }
      table.newAppend().appendFile(dataFile(table, ids, 100)).commit();
    }
    long base = target.load().currentSnapshot().snapshotId();

    GenericRecord change = TestUsers.change("u04321", "changed", 200);
    PipelineResult changed = mergeAndCommit("DirectRunner", target, base, List.of(change), KeyBuckets.ROWS_PER_BUCKET, "run-1");

    Snapshot first = target.load().currentSnapshot();
    assertEquals("run-1", first.summary().get("example.run-id"));
    assertEquals("1", first.summary().get("added-data-files"), first.summary().toString());
    assertEquals("1", first.summary().get("added-delete-files"), first.summary().toString());
    assertEquals(1, counter(changed, "merge_files_read"));
    assertEquals(19, counter(changed, "merge_files_skipped"));
    expected.put("u04321", "changed@200");
    assertRows(expected, target.load());

    PipelineResult again =
        mergeAndCommit("DirectRunner", target, first.snapshotId(), List.of(change), KeyBuckets.ROWS_PER_BUCKET, "run-2");

    Snapshot second = target.load().currentSnapshot();
    assertEquals("run-2", second.summary().get("example.run-id"));
    assertEquals("1", second.summary().get("added-data-files"), second.summary().toString());
    assertEquals("1", second.summary().get("added-position-deletes"), second.summary().toString());
    assertEquals(2, counter(again, "merge_files_read"), "u04321's first file and the file of its new row");
    assertEquals(19, counter(again, "merge_files_skipped"));
    assertEquals(1, counter(again, "rows_deleted"));
    assertRows(expected, target.load());

    // No change at all: no file opened, nothing written, the run still committed.
    PipelineResult nothing =
        mergeAndCommit("DirectRunner", target, second.snapshotId(), List.of(), KeyBuckets.ROWS_PER_BUCKET, "run-3");

    Snapshot third = target.load().currentSnapshot();
    assertEquals("run-3", third.summary().get("example.run-id"));
    assertEquals("0", third.summary().getOrDefault("added-data-files", "0"), third.summary().toString());
    assertEquals("0", third.summary().getOrDefault("added-delete-files", "0"), third.summary().toString());
    assertEquals(0, counter(nothing, "merge_files_read"));
    assertRows(expected, target.load());
  }

  /**
   * A key of a string and a timestamp ({@code primary_keys: user_id, updated_at}): the committed
   * rows' keys come from Iceberg (an {@code OffsetDateTime}), the changes' from Avro (microseconds),
   * and the changed keys' filter must take them for the same keys. Users u0..u99 committed at 100;
   * the run replaces (u5, 100), deletes (u6, 100) and adds (u7, 200) beside (u7, 100).
   */
  /**
   * Of a committed row, an SCD type 1 merge of changes reads the key and sequence; a snapshot table
   * and an SCD type 2 table read every column (they compare rows, or copy the version they close).
   */
  @Test
  void aMergeReadsOfACommittedRowTheColumnsItsRuleNeeds() {
    assertEquals(List.of("user_id", "updated_at", "_file", "_pos"), columns(MergeChanges.locatedSchema(SCD1, TABLE)));
    MergeRule snapshot = new MergeRule(ScdType.SCD_TYPE_1, List.of("user_id"), null, true);
    assertEquals(List.of("user_id", "email", "updated_at", "_file", "_pos"),
        columns(MergeChanges.locatedSchema(snapshot, snapshot.tableSchema(FEED))));
    MergeRule versions = new MergeRule(ScdType.SCD_TYPE_2, List.of("user_id"), "updated_at", false);
    assertEquals(List.of("user_id", "email", "updated_at", "__START_AT", "__END_AT", "_file", "_pos"),
        columns(MergeChanges.locatedSchema(versions, versions.tableSchema(FEED))));
  }

  /**
   * A type 1 merge's buckets are sized from its changes: each may meet one committed row, and the
   * filter passes about (1 - e^(-4n/2^23))^4 of the table's other rows (n changed keys): 5e-10 at
   * 10,000 keys, 2.07 % at a million, all of them far past that.
   */
  @Test
  void aTypeOneMergesRowsAreEstimatedFromItsChanges() {
    assertEquals(20_001, KeyBuckets.changesAndCommittedRows(10_000, 1_000_000), "10,000 + 10,000 + 1 false positive");
    long million = KeyBuckets.changesAndCommittedRows(1_000_000, 100_000_000);
    assertTrue(million > 4_060_000 && million < 4_080_000, "2,000,000 + 2.07 % of 100,000,000: " + million);
    assertEquals(50_001_000, KeyBuckets.changesAndCommittedRows(50_000_000, 1_000), "no more committed rows than the table's");
    assertEquals(0, KeyBuckets.changesAndCommittedRows(0, 1_000_000));
  }

  private static List<String> columns(Schema schema) {
    return schema.getFields().stream().map(Schema.Field::name).toList();
  }

  @Test
  void aKeyWithATimestampFindsItsCommittedRows() {
    MergeRule byUserAndTime = new MergeRule(ScdType.SCD_TYPE_1, List.of("user_id", "updated_at"), "updated_at", false);
    TableTarget target = new TableTarget(CatalogConfig.hadoop(dir.toString()), USERS);
    Table table = create(target, List.of("user_id"));
    List<String> ids = new ArrayList<>();
    Set<String> expected = new TreeSet<>();
    for (int i = 0; i < 100; i++) {
      ids.add("u" + i);
      expected.add("u" + i + "@100=e" + i);
    }
    table.newAppend().appendFile(dataFile(table, ids, 100)).commit();
    long base = target.load().currentSnapshot().snapshotId();

    PipelineResult result = mergeAndCommit("DirectRunner", byUserAndTime, target, base, List.of(
        TestUsers.change("u5", "new5", 100), TestUsers.change("u6", null, 100), TestUsers.change("u7", "new7", 200)),
        KeyBuckets.ROWS_PER_BUCKET, "run-1");

    expected.remove("u5@100=e5");
    expected.add("u5@100=new5");
    expected.remove("u6@100=e6");
    expected.add("u7@200=new7");
    Set<String> actual = new TreeSet<>();
    for (Record r : IcebergFiles.rows(target.load())) {
      assertTrue(actual.add(r.getField("user_id") + "@" + micros(r) + "=" + r.getField("email")), "one row per key: " + r);
    }
    assertEquals(expected, actual);
    assertEquals(2, counter(result, "rows_deleted"), "(u5, 100) replaced and (u6, 100) deleted");
    assertEquals(2, counter(result, "rows_inserted"), "(u5, 100) and (u7, 200)");
  }

  /**
   * One file of users u0000..u2999 in row groups of about 100 rows, read by row group on several
   * workers; or in one row group of pages of 10 rows, read in parts on several threads. Run 1
   * updates every hundredth user and deletes u1550; run 2, reading the file again with run 1's
   * deletes against it, updates the users halfway between (u1550 again) and u0100 once more.
   */
  @ParameterizedTest
  @CsvSource({"DirectRunner, row groups", "FlinkRunner, row groups", "DirectRunner, pages"})
  void aFileIsMergedByRowGroupAndALargeRowGroupInParts(String runner, String layout) {
    TableTarget target = new TableTarget(CatalogConfig.hadoop(dir.toString()), USERS);
    Table table = create(target, List.of("user_id"));
    table.updateProperties().set(layout.equals("pages") ? TableProperties.PARQUET_PAGE_ROW_LIMIT
        : TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES, layout.equals("pages") ? "10" : "2048").commit();
    Map<String, String> expected = new TreeMap<>();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      String id = String.format("u%04d", i);
      ids.add(id);
      expected.put(id, "e" + id.substring(1) + "@100");
    }
    table.newAppend().appendFile(dataFile(target.load(), ids, 100)).commit();
    long base = target.load().currentSnapshot().snapshotId();
    List<FileScanTask> files = Warehouse.files(target.load(), base);
    assertEquals(1, files.size());
    List<FileScanTask> rowGroups = MergeChanges.rowGroups(files);
    if (layout.equals("pages")) {
      assertEquals(1, rowGroups.size());
      assertEquals(4, ReadCommittedRows.parts(rowGroups, 2, true).size(), "on two threads, in four parts");
    } else {
      assertTrue(rowGroups.size() >= 10, "row groups: " + rowGroups.size());
    }

    List<GenericRecord> first = new ArrayList<>();
    for (int i = 0; i < 3_000; i += 100) {
      String id = String.format("u%04d", i);
      first.add(TestUsers.change(id, "one" + i, 200));
      expected.put(id, "one" + i + "@200");
    }
    first.add(TestUsers.change("u1550", null, 200));
    expected.remove("u1550");
    PipelineResult one = mergeAndCommit(runner, target, base, first, KeyBuckets.ROWS_PER_BUCKET, "run-1");
    assertRows(expected, target.load());
    assertEquals(1, counter(one, "merge_files_read"), "one file, however many row groups");
    assertEquals(31, counter(one, "rows_deleted"));

    List<GenericRecord> second = new ArrayList<>();
    for (int i = 50; i < 3_000; i += 100) {
      String id = String.format("u%04d", i);
      second.add(TestUsers.change(id, "two" + i, 300));
      expected.put(id, "two" + i + "@300");
    }
    second.add(TestUsers.change("u0100", "again", 300));
    expected.put("u0100", "again@300");
    PipelineResult two = mergeAndCommit(runner, target, target.load().currentSnapshot().snapshotId(), second,
        KeyBuckets.ROWS_PER_BUCKET, "run-2");
    assertRows(expected, target.load());
    assertEquals(30, counter(two, "rows_deleted"), "29 users' first rows (u1550 has none left) and u0100's row of run 1");
  }

  /**
   * A committed file is cut at the row group offsets it records, and one that records none (a
   * 40 MB file another writer added) every 16 MB: never into pieces too small to read.
   */
  @Test
  void committedFilesAreCutAtTheirRowGroups() {
    TableTarget target = new TableTarget(CatalogConfig.hadoop(dir.toString()), USERS);
    Table table = create(target, List.of("user_id"));
    table.newAppend()
        .appendFile(listedFile("three-groups.parquet", 40 * MB, List.of(4L, 10 * MB, 30 * MB)))
        .appendFile(listedFile("no-offsets.parquet", 40 * MB, null))
        .commit();
    Map<String, List<Long>> starts = new TreeMap<>();
    for (FileScanTask split : MergeChanges.rowGroups(Warehouse.files(target.load(), target.load().currentSnapshot().snapshotId()))) {
      starts.computeIfAbsent(Path.of(split.file().path().toString()).getFileName().toString(), f -> new ArrayList<>())
          .add(split.start());
    }
    assertEquals(Map.of("three-groups.parquet", List.of(4L, 10 * MB, 30 * MB), "no-offsets.parquet", List.of(0L, 16 * MB, 32 * MB)),
        starts);
  }

  /**
   * The row groups are read in a group per Iceberg read split of 128 MB: 20 files of 100 MB (2,000
   * MB, each cut into six row groups of 16 MB and one of 4) are 140 row groups in 16 groups; half
   * of them, 8; three row groups of 16 MB, one.
   */
  @Test
  void aLargeTablesRowGroupsAreReadInAGroupPerIcebergSplit() {
    TableTarget target = new TableTarget(CatalogConfig.hadoop(dir.toString()), USERS);
    Table table = create(target, List.of("user_id"));
    AppendFiles large = table.newAppend();
    for (int i = 0; i < 20; i++) {
      large.appendFile(listedFile("large-" + i + ".parquet", 100 * MB, null));
    }
    large.commit();
    List<FileScanTask> rowGroups = MergeChanges.rowGroups(Warehouse.files(target.load(), target.load().currentSnapshot().snapshotId()));
    assertEquals(140, rowGroups.size());
    List<List<FileScanTask>> groups = MergeChanges.readGroups(rowGroups);
    assertEquals(16, groups.size());
    assertEquals(140, groups.stream().mapToInt(List::size).sum());
    assertTrue(groups.stream().allMatch(g -> g.size() == 8 || g.size() == 9), "row groups per group: "
        + groups.stream().map(List::size).toList());
    assertEquals(8, MergeChanges.readGroups(rowGroups.subList(0, 70)).size(), "10 files, 1,000 MB: 8 splits");
    assertEquals(1, MergeChanges.readGroups(rowGroups.subList(0, 3)).size(), "48 MB in three row groups");
  }

  /**
   * A read group's row groups as its threads read them, largest first: a row group larger than a
   * thread's share is cut into parts of at most half a share (at most 16), others are read whole,
   * and so is every row group of a read without the changed keys' filter (a snapshot table).
   */
  @Test
  void aRowGroupLargerThanAThreadsShareIsReadInParts() {
    TableTarget target = new TableTarget(CatalogConfig.hadoop(dir.toString()), USERS);
    Table table = create(target, List.of("user_id"));
    AppendFiles files = table.newAppend();
    for (long size : new long[] {8, 4, 4, 7, 1, 16}) {
      files.appendFile(listedFile(size + "-" + UUID.randomUUID() + ".parquet", size * MB, List.of(0L)));
    }
    for (int i = 0; i < 40; i++) {
      files.appendFile(listedFile("small-" + i + ".parquet", MB / 10, List.of(0L)));
    }
    files.commit();
    Map<Long, FileScanTask> bySize = new HashMap<>();
    List<FileScanTask> fours = new ArrayList<>();
    List<FileScanTask> small = new ArrayList<>();
    for (FileScanTask task : MergeChanges.rowGroups(Warehouse.files(target.load(), target.load().currentSnapshot().snapshotId()))) {
      if (task.length() < MB) {
        small.add(task);
      } else {
        bySize.put(task.length() / MB, task);
        if (task.length() == 4 * MB) {
          fours.add(task);
        }
      }
    }
    FileScanTask eight = bySize.get(8L);
    FileScanTask seven = bySize.get(7L);
    FileScanTask one = bySize.get(1L);
    assertEquals(List.of("8: 0/4", "8: 1/4", "8: 2/4", "8: 3/4"), parts(List.of(eight), 2, true), "one row group, two threads");
    assertEquals(List.of("8: 0/1"), parts(List.of(eight), 2, false), "without the changed keys' filter");
    assertEquals(List.of("8: 0/1"), parts(List.of(eight), 1, true), "one thread");
    assertEquals(List.of("8: 0/8", "8: 1/8", "8: 2/8", "8: 3/8", "8: 4/8", "8: 5/8", "8: 6/8", "8: 7/8"),
        parts(List.of(eight), 4, true), "four threads");
    assertEquals(List.of("4: 0/1", "4: 0/1"), parts(fours, 2, true), "a share each");
    assertEquals(List.of("7: 0/4", "7: 1/4", "7: 2/4", "7: 3/4", "1: 0/1"), parts(List.of(one, seven), 2, true),
        "seven eighths and one");
    assertEquals(16, ReadCommittedRows.parts(List.of(bySize.get(16L)), 16, true).size(), "at most 16 parts");
    assertEquals(40, ReadCommittedRows.parts(small, 2, true).size(), "40 small files, none cut");
  }

  /** A data file of {@code bytes} known to the table by its metadata only: these tests never open it. */
  private DataFile listedFile(String name, long bytes, @Nullable List<Long> rowGroupOffsets) {
    return DataFiles.builder(PartitionSpec.unpartitioned()).withPath(dir.resolve(name).toString())
        .withFormat(FileFormat.PARQUET).withFileSizeInBytes(bytes).withRecordCount(1_000)
        .withSplitOffsets(rowGroupOffsets).build();
  }

  private static List<String> parts(List<FileScanTask> rowGroups, int threads, boolean filtered) {
    return ReadCommittedRows.parts(rowGroups, threads, filtered).stream()
        .map(p -> p.rowGroup().length() / MB + ": " + p.part().index() + "/" + p.part().count()).toList();
  }

  /**
   * A committed file that cannot be read fails the merge with its error, although its row groups
   * are read side by side: a file of 30 row groups, gone from the disk.
   */
  @Test
  void aCommittedFileThatCannotBeReadFailsTheMergeNamingIt() throws Exception {
    TableTarget target = new TableTarget(CatalogConfig.hadoop(dir.toString()), USERS);
    Table table = create(target, List.of("user_id"));
    table.updateProperties().set(TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES, "2048").commit();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      ids.add(String.format("u%04d", i));
    }
    DataFile file = dataFile(target.load(), ids, 100);
    table.newAppend().appendFile(file).commit();
    List<FileScanTask> committed = Warehouse.files(target.load(), target.load().currentSnapshot().snapshotId());
    assertTrue(MergeChanges.rowGroups(committed).size() >= 10, "row groups: " + MergeChanges.rowGroups(committed).size());
    java.nio.file.Files.delete(Path.of(file.path().toString()));

    Pipeline pipeline = pipeline("DirectRunner");
    pipeline.apply("Changes", Create.of(TestUsers.change("u0100", "x", 200)).withCoder(AvroCoder.of(FEED)))
        .apply("Merge", new MergeChanges(SCD1, FEED, null, target, committed, Types.StringType.get(), false));
    Pipeline.PipelineExecutionException e = assertThrows(Pipeline.PipelineExecutionException.class, pipeline::run);
    String messages = Stream.iterate((Throwable) e, Objects::nonNull, Throwable::getCause).map(String::valueOf).toList().toString();
    assertTrue(messages.contains(Path.of(file.path().toString()).getFileName().toString()), messages);
  }

  /**
   * An override of the key by a nullable column: a change without a value fails the table, whether
   * its key's rows are gathered or (a first version, one change per key) each change is replayed
   * on its own.
   */
  @ParameterizedTest
  @CsvSource({"false, false", "true, false", "false, true", "true, true"})
  void aNullPrimaryKeyValueFailsTheTable(boolean tombstone, boolean oneChangePerKey) {
    MergeRule byEmail = new MergeRule(ScdType.SCD_TYPE_1, List.of("email"), "updated_at", false);
    TableTarget target = new TableTarget(CatalogConfig.hadoop(dir.toString()), USERS);
    create(target, List.of("email"));
    GenericRecord noEmail = TestUsers.change("u2", null, 10); // a tombstone: no email
    if (!tombstone) {
      noEmail.put(RecordSchemas.OPERATION, "upsert");
      noEmail.put(RecordSchemas.IS_DELETED, false);
    }
    Pipeline pipeline = pipeline("DirectRunner");
    pipeline.apply("Changes", Create.of(TestUsers.change("u1", "a@x", 10), noEmail).withCoder(AvroCoder.of(FEED)))
        .apply("Merge", new MergeChanges(byEmail, FEED, null, target, List.of(), Types.StringType.get(), oneChangePerKey));
    Pipeline.PipelineExecutionException e = assertThrows(Pipeline.PipelineExecutionException.class, pipeline::run);
    String message = e.getCause().getMessage();
    assertTrue(message.startsWith("table main.example.users: primary key column 'email' is null in "
        + (tombstone ? "a delete (tombstone)" : "a record")), message);
    assertTrue(message.contains("primary_keys"), message);
  }

  /**
   * The filter of 200,000 changed keys holds every one of them, claims few others, and is no
   * larger than the filter of one; a partial (what runners shuffle per bundle) is the size of its
   * keys' hashes until the filter is smaller, and survives its coder.
   */
  @Test
  void aChangedKeyFilterHasNoFalseNegativesAndAFixedSize() throws Exception {
    ChangedKeys.Collect collect = new ChangedKeys.Collect(List.of("user_id"), ChangedKeys.DEFAULT_BITS);
    ChangedKeys.Partial one = collect.addInput(collect.createAccumulator(), TestUsers.change("u0", "a", 1));
    ChangedKeys.Partial many = collect.createAccumulator();
    for (int i = 0; i < 200_000; i++) {
      collect.addInput(many, TestUsers.change("u" + i, "a", 1));
    }
    assertEquals(4 + 1 + 4 + 8, encoded(one).length, "one key: a header and one hash");
    assertEquals(4 + 1 + 4 + ChangedKeys.DEFAULT_BITS / 8, encoded(many).length, "at most the filter's bits");

    ChangedKeys.Partial decoded = new ChangedKeys.PartialCoder().decode(new ByteArrayInputStream(encoded(many)));
    ChangedKeys filter = collect.extractOutput(collect.mergeAccumulators(List.of(decoded, one)));
    for (int i = 0; i < 200_000; i++) {
      assertTrue(filter.mightContain(List.of("u" + i)), "u" + i);
    }
    int falsePositives = 0;
    for (int i = 200_000; i < 300_000; i++) {
      falsePositives += filter.mightContain(List.of("u" + i)) ? 1 : 0;
    }
    assertTrue(falsePositives < 100, "under 0.1 % of 100,000 unchanged keys: " + falsePositives);
    assertEquals(serializedSize(collect.extractOutput(one)), serializedSize(filter), "the filter does not grow with the keys");
  }

  /**
   * The filter hashes a key's characters as they are written, as FNV-1a over the key's string
   * would: checked against that string, hashed here, for strings (Avro's and Java's), a length of
   * several digits, numbers and nulls.
   */
  @Test
  void aKeyIsHashedAsItsStringWouldBe() {
    List<List<?>> keys = List.of(List.of("u1"), List.of(new Utf8("u1")), List.of("x".repeat(1234)),
        Arrays.asList("a", null, 42L), List.of(7, true, "é;s3:"), Arrays.asList((Object) null));
    for (List<?> key : keys) {
      long h = 0xcbf29ce484222325L;
      for (char c : MergeChanges.keyOf(key).toCharArray()) {
        h = (h ^ c) * 0x100000001b3L;
      }
      h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
      h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
      assertEquals(h ^ (h >>> 31), ChangedKeys.hash(key), MergeChanges.keyOf(key));
    }
    assertEquals(ChangedKeys.hash(List.of("u1")), ChangedKeys.hash(List.of(new Utf8("u1"))));
  }

  /**
   * Merges the changes into the table as of {@code base} and commits the result, as a run does:
   * the inserts as data files, the deletes as position delete files, one commit with the run id.
   */
  private static PipelineResult mergeAndCommit(String runner, TableTarget target, long base,
      List<GenericRecord> changes, long rowsPerBucket, String runId) {
    return mergeAndCommit(runner, SCD1, target, base, changes, rowsPerBucket, runId);
  }

  /** The same, by {@code rule}'s keys (its first a string). */
  private static PipelineResult mergeAndCommit(String runner, MergeRule rule, TableTarget target, long base,
      List<GenericRecord> changes, long rowsPerBucket, String runId) {
    Pipeline pipeline = pipeline(runner);
    List<FileScanTask> committed = Warehouse.files(target.load(), base);
    PCollectionTuple merged = pipeline
        .apply("Changes", Create.of(changes).withCoder(AvroCoder.of(FEED)))
        .apply("Merge", new MergeChanges(rule, FEED, null, target, committed, Types.StringType.get(), false, rowsPerBucket));
    List<PCollection<WrittenFile>> written = List.of(
        merged.get(MergeChanges.INSERTS).apply("Write inserts",
            new WriteDataFiles(target, runId, TABLE, rule.identifierColumns())),
        merged.get(MergeChanges.DELETES).apply("Write deletes", new WritePositionDeletes(target, runId,
            DataFilePartitions.of(committed))));
    RunCommit run = new RunCommit(runId, AT, List.of(new TableCommit(target, target.load().uuid().toString(), base, Map.of("records", AT))));
    pipeline.apply("Commit", new CommitTables(run, new TableCommitter(target.catalog()), written));
    PipelineResult result = pipeline.run();
    // Bounded, so that a run that never ends fails the test instead of hanging the build.
    assertEquals(PipelineResult.State.DONE, result.waitUntilFinish(Duration.standardMinutes(2)), runId + " did not end");
    return result;
  }

  private static Table create(TableTarget target, List<String> keys) {
    return new Warehouse(target.catalog()).create(target.destination(), TableSchemas.toIceberg(TABLE, keys), Map.of());
  }

  /** A data file of users with email "e" + id, written with Iceberg's own Parquet writer. */
  private static DataFile dataFile(Table table, List<String> ids, long updatedAtMicros) {
    OffsetDateTime updatedAt = OffsetDateTime.ofInstant(Instant.EPOCH.plus(updatedAtMicros, ChronoUnit.MICROS), ZoneOffset.UTC);
    List<Record> rows = new ArrayList<>();
    for (String id : ids) {
      Record row = org.apache.iceberg.data.GenericRecord.create(table.schema());
      row.setField("user_id", id);
      row.setField("email", "e" + id.substring(1));
      row.setField("updated_at", updatedAt);
      rows.add(row);
    }
    return IcebergFiles.dataFile(table, rows);
  }

  /** The table's rows equal the expected ones; a failure names the first users that differ. */
  private static void assertRows(Map<String, String> expected, Table table) {
    Map<String, String> actual = rows(table);
    List<String> differing = new ArrayList<>();
    for (String user : new TreeSet<>(union(expected.keySet(), actual.keySet()))) {
      if (!Objects.equals(expected.get(user), actual.get(user)) && differing.size() < 10) {
        differing.add(user + ": expected " + expected.get(user) + ", table has " + actual.get(user));
      }
    }
    assertEquals(List.of(), differing);
    assertEquals(expected.size(), actual.size());
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> all = new HashSet<>(a);
    all.addAll(b);
    return all;
  }

  /** The table's live rows (deletes applied) by user: "email@updated_at" (microseconds). */
  private static Map<String, String> rows(Table table) {
    Map<String, String> rows = new TreeMap<>();
    for (Record r : IcebergFiles.rows(table)) {
      String previous = rows.put(r.getField("user_id").toString(), r.getField("email") + "@" + micros(r));
      assertNull(previous, "one row per user: " + r);
    }
    return rows;
  }

  /** A row's updated_at in microseconds. */
  private static long micros(Record row) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, ((OffsetDateTime) row.getField("updated_at")).toInstant());
  }

  private static Pipeline pipeline(String runner) {
    return Pipeline.create(PipelineOptionsFactory.fromArgs(
        "--runner=" + runner, "--flinkMaster=[local]", "--parallelism=2").withoutStrictParsing().create());
  }

  /** A counter of the users table over the run (attempted: Flink reports no committed metrics). */
  private static long counter(PipelineResult result, String name) {
    long sum = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(USERS.key(), name)).build()).getCounters()) {
      sum += c.getAttempted();
    }
    return sum;
  }

  private static byte[] encoded(ChangedKeys.Partial partial) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new ChangedKeys.PartialCoder().encode(partial, bytes);
    return bytes.toByteArray();
  }

  private static int serializedSize(Object o) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    return bytes.size();
  }
}
