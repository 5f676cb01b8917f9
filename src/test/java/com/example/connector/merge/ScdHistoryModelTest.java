package com.example.connector.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.ScdType;
import com.example.connector.catalog.Timestamps;
import com.example.connector.table.CatalogConfig;
import com.example.connector.table.CommitTables;
import com.example.connector.table.DataFilePartitions;
import com.example.connector.table.Destination;
import com.example.connector.table.Maintenance;
import com.example.connector.table.RunCommit;
import com.example.connector.table.TableCommit;
import com.example.connector.table.TableCommitter;
import com.example.connector.table.TableFiles;
import com.example.connector.table.TableSchemas;
import com.example.connector.table.TableTarget;
import com.example.connector.table.Warehouse;
import com.example.connector.table.WriteDataFiles;
import com.example.connector.table.WritePositionDeletes;
import com.example.connector.table.WrittenFile;
import com.example.testing.IcebergFiles;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SCD type 2 tables run after run against a model written here, independently of {@link
 * KeyHistory}: each key's events ordered by sequence, then run, then an upsert before a delete;
 * each upsert that is not the open version again opens a version from its sequence, closed at the
 * next event's sequence (a delete only closes). The same runs go through the bounded merge
 * ({@link MergeChanges} on the DirectRunner) into one table and the continuous one ({@link
 * IntervalMerge}) into another, with a compaction between runs; every row of both, read with
 * Iceberg's generic reader, must equal the model.
 */
class ScdHistoryModelTest {
  private static final Schema FEED = TestUsers.FEED;
  private static final MergeRule SCD2 = new MergeRule(ScdType.SCD_TYPE_2, List.of("user_id"), "updated_at", false);
  private static final MergeRule SCD1 = new MergeRule(ScdType.SCD_TYPE_1, List.of("user_id"), "updated_at", false);
  private static final MergeRule SNAPSHOT2 = new MergeRule(ScdType.SCD_TYPE_2, List.of("user_id"), null, true);

  @TempDir Path dir;

  /** The model's events of each key, as the runs read them. */
  private final Map<String, List<Event>> events = new TreeMap<>();
  private int run;
  /** How the tables of the test keep their rows. */
  private MergeRule rule = SCD2;
  /** SCD type 1: the row each key kept after the last run. */
  private final Map<String, Event> kept = new TreeMap<>();
  /** Whether the versions are a snapshot table's, whose rows hold no sequence: an equal row is unchanged. */
  private boolean snapshots;

  private record Event(long sequence, int run, boolean delete, @Nullable String email) {}

  @Test
  void versionsFollowTheSequenceRunAfterRun() {
    TableTarget bounded = create("bounded", rule);
    TableTarget interval = create("interval", rule);

    runs(bounded, interval,
        upsert("u1", "a", 10), upsert("u2", "b", 10), upsert("u3", "c", 10),
        upsert("u4", "d", 10), delete("u4", 20), // a delete in the run of its version
        delete("u5", 5), // a key never seen
        upsert("u6", "e", 10), delete("u6", 10), // an upsert and a delete of one sequence
        upsert("u7", "x", 10), upsert("u7", "y", 10)); // two upserts of one sequence
    runs(bounded, interval,
        upsert("u1", "a0", 5), // older than the current version: before it
        upsert("u1", "a2", 30),
        upsert("u2", "b2", 10), // the sequence of the committed version: the later run wins
        delete("u3", 15), delete("u3", 16), // two deletes
        upsert("u4", "d2", 25), // re-inserted after its delete
        upsert("u6", "f", 10),
        upsert("u7", "x", 10)); // read again in a later run: it wins again
    runs(bounded, interval,
        upsert("u1", "a1", 20), // between two committed versions
        upsert("u3", "c2", 12), // between a version and the delete that closed it
        upsert("u4", "d1", 15), // the same, of a re-inserted key
        upsert("u2", "b", 10), // the older version read again
        upsert("u1", "a2", 30)); // the current version read again: no new version

    compact(bounded);
    compact(interval);
    runs(bounded, interval,
        delete("u1", 40),
        upsert("u2", "b3", 11),
        upsert("u4", "d3", 22), // after the delete at 20, before d2
        upsert("u3", "c0", 1),
        upsert("u8", "g", 50));
    runs(bounded, interval,
        upsert("u1", "a3", 35), // between a2 and the delete at 40
        upsert("u1", "a4", 45), // re-inserted after it
        delete("u4", 22), // the sequence of a version: after it, closing it
        upsert("u8", "g", 50)); // read again
    compact(bounded);
    compact(interval);
    runs(bounded, interval, upsert("u5", "h", 7), delete("u8", 60)); // after a delete of the key never seen
  }

  /** SCD type 1 through the same code: the same runs leave each key's latest row (no tombstone store). */
  @Test
  void typeOneKeepsTheLatestRunAfterRun() {
    rule = SCD1;
    versionsFollowTheSequenceRunAfterRun();
  }

  /**
   * Two versions of one sequence, from two runs, then a delete at that sequence: both versions are
   * closed there, and the key stays deleted when a later run adds an older version or a newer one.
   */
  @Test
  void aKeyDeletedAtTheSequenceOfItsLastVersionsStaysDeleted() {
    TableTarget bounded = create("bounded", SCD2);
    TableTarget interval = create("interval", SCD2);
    runs(bounded, interval, upsert("u1", "x", 10), upsert("u2", "x", 10), upsert("u2", "y", 10), delete("u2", 10));
    runs(bounded, interval, upsert("u1", "y", 10));
    runs(bounded, interval, delete("u1", 10));
    runs(bounded, interval, upsert("u1", "w", 5), upsert("u2", "w", 5));
    runs(bounded, interval, upsert("u1", "z", 20), upsert("u2", "z", 20));
  }

  /**
   * Versions without a sequence value (a {@code sequence_by} column null in a record, as a
   * nullable column's can be): one is open from a null {@code __START_AT} until the next version,
   * but a second could only close it at a null {@code __END_AT}, which marks the current version,
   * and the key would have two current versions. The table fails instead, naming itself and the
   * column, and keeps its rows.
   */
  @Test
  void aVersionClosedWithoutASequenceValueFailsTheTable() {
    TableTarget bounded = create("bounded", SCD2);
    TableTarget interval = create("interval", SCD2);
    run++;
    mergeBounded(bounded, SCD2, null, List.of(unordered("u1", "a")));
    mergeInterval(interval, SCD2, null, List.of(unordered("u1", "a")));
    assertEquals(List.of("u1:a@null[null,null)"), rows(bounded.load()));
    assertEquals(List.of("u1:a@null[null,null)"), rows(interval.load()));

    run++;
    for (Runnable merge : List.<Runnable>of(
        () -> mergeBounded(bounded, SCD2, null, List.of(unordered("u1", "b"))),
        () -> mergeInterval(interval, SCD2, null, List.of(unordered("u1", "b"))))) {
      Throwable e = assertThrows(RuntimeException.class, merge::run);
      while (!e.getMessage().startsWith("table ") && e.getCause() != null) {
        e = e.getCause();
      }
      assertTrue(e.getMessage().startsWith("table main.example.") && e.getMessage().contains(
          "sequence_by column 'updated_at' is null in two versions of a key"), e.getMessage());
    }
    assertEquals(List.of("u1:a@null[null,null)"), rows(bounded.load()));
    assertEquals(List.of("u1:a@null[null,null)"), rows(interval.load()));
  }

  /** An upsert without a sequence value. */
  private static GenericRecord unordered(String key, String email) {
    GenericRecord change = upsert(key, email, 0);
    change.put("updated_at", null);
    return change;
  }

  /**
   * A snapshot table (products) kept as SCD type 2: a row unchanged across snapshots keeps its
   * version, a changed one closes it at the new snapshot's time, one missing from a snapshot is
   * closed and one that comes back opens a new version.
   */
  @Test
  void snapshotVersionsFollowTheSnapshots() {
    snapshots = true;
    TableTarget bounded = create("bounded", SNAPSHOT2);
    TableTarget interval = create("interval", SNAPSHOT2);
    Map<String, String> first = Map.of("p1", "a", "p2", "b", "p3", "c");
    snapshot(bounded, interval, 100, first);
    snapshot(bounded, interval, 200, first);
    snapshot(bounded, interval, 300, Map.of("p1", "a", "p3", "c2"));
    compact(bounded);
    compact(interval);
    snapshot(bounded, interval, 400, Map.of("p1", "a", "p2", "b", "p3", "c2"));
    snapshot(bounded, interval, 500, Map.of());
    snapshot(bounded, interval, 600, Map.of("p2", "b"));
  }

  /** One run of {@code changes} into both tables, both compared with the model after it. */
  private void runs(TableTarget bounded, TableTarget interval, GenericRecord... changes) {
    run++;
    for (GenericRecord c : changes) {
      boolean delete = Boolean.TRUE.equals(c.get("_is_deleted"));
      events.computeIfAbsent(c.get("user_id").toString(), k -> new ArrayList<>())
          .add(new Event((Long) c.get("updated_at"), run, delete, delete ? null : c.get("email").toString()));
    }
    List<String> expected = rule.scdType() == ScdType.SCD_TYPE_1 ? latest() : expected();
    mergeBounded(bounded, rule, null, List.of(changes));
    assertEquals(expected, rows(bounded.load()), "bounded, after run " + run);
    mergeInterval(interval, rule, null, List.of(changes));
    assertEquals(expected, rows(interval.load()), "interval, after run " + run);
  }

  /** A snapshot at {@code at} of {@code rows} (key to email) into both tables. */
  private void snapshot(TableTarget bounded, TableTarget interval, long at, Map<String, String> rows) {
    run++;
    List<GenericRecord> changes = new ArrayList<>();
    rows.forEach((key, email) -> changes.add(TestUsers.change(key, email, 7)));
    for (String key : events.keySet()) {
      if (!rows.containsKey(key)) {
        events.get(key).add(new Event(at, run, true, null));
      }
    }
    rows.forEach((key, email) ->
        events.computeIfAbsent(key, k -> new ArrayList<>()).add(new Event(at, run, false, email)));
    List<String> expected = expected();
    mergeBounded(bounded, SNAPSHOT2, at, changes);
    assertEquals(expected, snapshotRows(bounded.load()), "bounded, after snapshot " + run);
    mergeInterval(interval, SNAPSHOT2, at, changes);
    assertEquals(expected, snapshotRows(interval.load()), "interval, after snapshot " + run);
  }

  /**
   * The model's versions, each "key:email@start[start,end)": by sequence, run, an upsert before a
   * delete, then by email; the open version read again is no new one.
   */
  private List<String> expected() {
    List<String> out = new ArrayList<>();
    events.forEach((key, list) -> {
      List<Event> sorted = new ArrayList<>(list);
      sorted.sort(Comparator.comparingLong(Event::sequence).thenComparingInt(Event::run)
          .thenComparing(Event::delete).thenComparing(Event::email, Comparator.nullsFirst(Comparator.naturalOrder())));
      Event open = null;
      for (Event e : sorted) {
        if (open != null && !e.delete() && e.email().equals(open.email())
            && (snapshots || e.sequence() == open.sequence())) {
          continue;
        }
        if (open != null) {
          out.add(key + ":" + open.email() + "@" + open.sequence() + "[" + open.sequence() + "," + e.sequence() + ")");
        }
        open = e.delete() ? null : e;
      }
      if (open != null) {
        out.add(key + ":" + open.email() + "@" + open.sequence() + "[" + open.sequence() + ",null)");
      }
    });
    out.sort(null);
    return out;
  }

  /** SCD type 1: each key's last event in the model's order, forgetting deletes once applied. */
  private List<String> latest() {
    events.forEach((key, list) -> {
      List<Event> candidates = new ArrayList<>(list.stream().filter(e -> e.run() == run).toList());
      if (kept.containsKey(key)) {
        candidates.add(kept.get(key));
      }
      candidates.stream().max(Comparator.comparingLong(Event::sequence).thenComparingInt(Event::run)
              .thenComparing(Event::delete).thenComparing(Event::email, Comparator.nullsFirst(Comparator.naturalOrder())))
          .ifPresent(last -> {
            if (last.delete()) {
              kept.remove(key);
            } else {
              kept.put(key, last);
            }
          });
    });
    List<String> out = new ArrayList<>();
    kept.forEach((key, last) -> out.add(key + ":" + last.email() + "@" + last.sequence()));
    return out;
  }

  /** Every row of the table, "key:email@updated_at[start,end)" (SCD type 2) or "key:email@updated_at". */
  private static List<String> rows(Table table) {
    List<String> out = new ArrayList<>();
    for (Record r : IcebergFiles.rows(table)) {
      String row = r.getField("user_id") + ":" + r.getField("email") + "@" + micros(r.getField("updated_at"));
      out.add(table.schema().findField(MergeRule.START_AT) == null ? row
          : row + "[" + micros(r.getField(MergeRule.START_AT)) + "," + micros(r.getField(MergeRule.END_AT)) + ")");
    }
    out.sort(null);
    return out;
  }

  /** A snapshot table's rows, "key:email@start[start,end)" (its updated_at is the same in every snapshot). */
  private static List<String> snapshotRows(Table table) {
    List<String> out = new ArrayList<>();
    for (Record r : IcebergFiles.rows(table)) {
      Long start = micros(r.getField(MergeRule.START_AT));
      out.add(r.getField("user_id") + ":" + r.getField("email") + "@" + start
          + "[" + start + "," + micros(r.getField(MergeRule.END_AT)) + ")");
    }
    out.sort(null);
    return out;
  }

  private static @Nullable Long micros(Object timestamp) {
    return timestamp == null ? null
        : ChronoUnit.MICROS.between(Instant.EPOCH, ((OffsetDateTime) timestamp).toInstant());
  }

  private static GenericRecord upsert(String key, String email, long at) {
    return TestUsers.change(key, email, at);
  }

  private static GenericRecord delete(String key, long at) {
    return TestUsers.change(key, null, at);
  }

  private TableTarget create(String name, MergeRule rule) {
    TableTarget target = new TableTarget(CatalogConfig.hadoop(dir.toString()), new Destination("main", "example", name));
    new Warehouse(target.catalog()).create(target.destination(),
        TableSchemas.toIceberg(rule.tableSchema(FEED), rule.identifierColumns()), Map.of());
    return target;
  }

  /** Compacts the table, which has position deletes, into one data file without any. */
  private void compact(TableTarget target) {
    Maintenance.Report report = Maintenance.maintain(target.load(), Maintenance.Settings.defaults(), Clock.systemUTC());
    assertTrue(report.deleteFilesBefore() > 0, report.describe());
    assertEquals(List.of(1, 0), List.of(report.dataFilesAfter(), report.deleteFilesAfter()), report.describe());
  }

  /** The run's commit of the table, its cursor the run's number (seconds). */
  private RunCommit commit(TableTarget target, @Nullable Long base, String runId) {
    return new RunCommit(runId, Timestamps.formatMicros(run * 1_000_000L), List.of(TableCommit.of(target,
        target.load().uuid().toString(), base, Map.of("records", run * 1_000_000L))));
  }

  private static @Nullable Long current(Table table) {
    return table.currentSnapshot() == null ? null : table.currentSnapshot().snapshotId();
  }

  /** The bounded merge of a run, as {@code MergeChangesTest} commits it. */
  private void mergeBounded(TableTarget target, MergeRule rule, @Nullable Long snapshotAt, List<GenericRecord> changes) {
    String runId = "run-" + run;
    Long base = current(target.load());
    List<FileScanTask> committed = base == null ? List.of() : Warehouse.files(target.load(), base);
    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.fromArgs("--runner=DirectRunner").create());
    PCollectionTuple merged = pipeline
        .apply("Changes", Create.of(changes).withCoder(AvroCoder.of(FEED)))
        .apply("Merge", new MergeChanges(rule, FEED, snapshotAt, target, committed, Types.StringType.get(), false, 2));
    List<PCollection<WrittenFile>> written = List.of(
        merged.get(MergeChanges.INSERTS).apply("Write inserts",
            new WriteDataFiles(target, runId, rule.tableSchema(FEED), rule.identifierColumns())),
        merged.get(MergeChanges.DELETES).apply("Write deletes", new WritePositionDeletes(target, runId,
            DataFilePartitions.of(committed))));
    pipeline.apply("Commit", new CommitTables(commit(target, base, runId), new TableCommitter(target.catalog()), written));
    assertEquals(PipelineResult.State.DONE, pipeline.run().waitUntilFinish(Duration.standardMinutes(2)));
  }

  /** The continuous merge of a run, as {@code IntervalCommitter} commits it. */
  private void mergeInterval(TableTarget target, MergeRule rule, @Nullable Long snapshotAt, List<GenericRecord> changes) {
    String runId = "run-" + run;
    Table table = target.load();
    Long base = current(table);
    String key = target.destination().key();
    IntervalMerge.Result merged = IntervalMerge.merge(table, key, rule, FEED, snapshotAt, changes);
    List<WrittenFile> written = new ArrayList<>(
        TableFiles.writeData(table, key, runId, rule.tableSchema(FEED), rule.identifierColumns(), merged.inserts()));
    if (!merged.deletes().isEmpty()) {
      written.addAll(TableFiles.writeDeletes(table, key, runId, merged.deletes(), merged.partitions()));
    }
    new TableCommitter(target.catalog()).commit(commit(target, base, runId), written);
  }
}
