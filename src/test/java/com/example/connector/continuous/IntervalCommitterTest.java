package com.example.connector.continuous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.SourceRows;
import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.ScdType;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.TableDescriptor;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Password;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.connector.merge.MergeRule;
import com.example.connector.read.FeedBatch;
import com.example.connector.table.CatalogConfig;
import com.example.connector.table.Destination;
import com.example.connector.table.Maintenance;
import com.example.connector.table.SnapshotSummary;
import com.example.connector.table.TableSchemas;
import com.example.connector.table.TableTarget;
import com.example.connector.table.Warehouse;
import com.example.crash.CrashCheck;
import com.example.source.ExampleSource;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A continuous run's commits into real Iceberg tables: an SCD type 1 table of the source's
 * {@code orders} (records and tombstones) and its change feed. Batches arrive out of order, are
 * delivered again after a restart, straddle a committed cursor, or carry no rows; the tables end
 * up with each change exactly once, and both feeds' cursors at the lower of what their batches
 * reach without a gap (IntervalCommitterDeletesTest: why).
 */
class IntervalCommitterTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long T0 = Timestamps.toMicros(Instant.parse("2026-01-01T00:00:00Z"));
  private static final long SECOND = 1_000_000L;
  private static final Instant NOW = Instant.parse("2026-01-01T01:00:00Z");

  private static TableDescriptor orders;
  private static Schema feedSchema;

  @TempDir Path dir;

  @BeforeAll
  static void describeOrders() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start();
        ExampleClient client = ExampleClient.create(new SourceConfig(source.baseUrl(), "u", Password.inline("p"),
            new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1))))) {
      orders = TableCatalog.discover(client).table("orders", "test");
    }
    feedSchema = RecordSchemas.schemaOf(orders);
  }

  @Test
  void batchesPastAGapWaitUntilItIsFilled() {
    ContinuousTable t = table();
    FeedBatch later = records(10, 20, order("order_2", "b", 15));
    FeedBatch earlier = records(0, 10, order("order_1", "a", 5));
    FeedBatch noDeletes = tombstones(0, 20);

    IntervalCommitter.Outcome first = IntervalCommitter.commit(t, List.of(later, noDeletes), true, NOW, Map.of());
    assertFalse(first.committed(), "nothing reaches the start without a gap");
    assertEquals(java.util.Set.of(later, noDeletes), java.util.Set.copyOf(first.remaining()));
    assertEquals(Map.of(), rows(t.target().load()));

    IntervalCommitter.Outcome second = IntervalCommitter.commit(t, List.of(later, earlier, noDeletes), true, NOW, Map.of());
    assertTrue(second.committed());
    assertEquals(List.of(), second.remaining());
    assertEquals(Map.of("order_1", "a", "order_2", "b"), rows(t.target().load()));
    assertEquals(at(20), cursors(t.target().load()).get("records"));
  }

  @Test
  void batchesDeliveredAgainAfterARestartAreNotCommittedTwice() {
    ContinuousTable t = table();
    List<FeedBatch> batches = List.of(records(0, 10, order("order_1", "a", 5)), tombstones(0, 10));
    assertTrue(IntervalCommitter.commit(t, batches, true, NOW, Map.of()).committed());
    int snapshots = snapshots(t);

    IntervalCommitter.Outcome again = IntervalCommitter.commit(t, batches, true, NOW, Map.of());
    assertFalse(again.committed(), "the table's cursors already hold them");
    assertEquals(List.of(), again.remaining(), "and they are dropped");
    assertEquals(snapshots, snapshots(t));
    assertEquals(List.of("order_1"), changeFeedKeys(t));
  }

  @Test
  void aBatchHeldTwiceInOneIntervalIsCommittedOnce() {
    ContinuousTable t = table();
    FeedBatch first = records(0, 10, order("order_1", "a", 5));
    FeedBatch wider = records(0, 20, order("order_1", "a", 5), order("order_2", "b", 15));

    assertTrue(IntervalCommitter.commit(t, List.of(first, first, wider, tombstones(0, 20)), true, NOW, Map.of()).committed());

    assertEquals(List.of("order_1", "order_2"), changeFeedKeys(t));
    assertEquals(Map.of("order_1", "a", "order_2", "b"), rows(t.target().load()));
  }

  @Test
  void rowsBelowTheCommittedCursorOfABatchThatStraddlesItAreNotWrittenAgain() {
    ContinuousTable t = table();
    IntervalCommitter.commit(t, List.of(records(0, 10, order("order_1", "a", 5)), tombstones(0, 10)), true, NOW, Map.of());

    // From an older checkpoint: it re-reads [5, 15); order_1's version at 5 is in the tables already.
    FeedBatch straddling = records(5, 15, order("order_1", "a", 5), order("order_2", "b", 12));
    assertTrue(IntervalCommitter.commit(t, List.of(straddling, tombstones(5, 15)), true, NOW, Map.of()).committed());
    assertEquals(List.of("order_1", "order_2"), changeFeedKeys(t), "each change once in the change feed");
    assertEquals(Map.of("order_1", "a", "order_2", "b"), rows(t.target().load()));
  }

  @Test
  void upsertsAndTombstonesMergeByCursorAcrossCommits() {
    ContinuousTable t = table();
    IntervalCommitter.commit(t, List.of(
        records(0, 10, order("order_1", "a", 1), order("order_2", "b", 2), order("order_3", "c", 3)),
        tombstones(0, 10)), true, NOW, Map.of());
    IntervalCommitter.commit(t, List.of(
        records(10, 20, order("order_1", "a2", 11)),
        tombstones(10, 20, tombstone("order_2", 12))), true, NOW, Map.of());

    assertEquals(Map.of("order_1", "a2", "order_3", "c"), rows(t.target().load()));
    Map<String, String> cursors = cursors(t.target().load());
    assertEquals(at(20), cursors.get("records"));
    assertEquals(at(20), cursors.get("deleted_records"));
  }

  /**
   * A table its owner partitioned (by status): an interval's rows land in their partitions, and
   * the rows they replace or delete are deleted by a position delete file in each data file's own
   * partition, as readers look them up.
   */
  @Test
  void aPartitionedTableTakesRowsAndDeletesInTheirPartitions() {
    ContinuousTable t = table();
    t.target().load().updateSpec().addField("status").commit();
    IntervalCommitter.commit(t, List.of(
        records(0, 10, order("order_1", "a", 1), order("order_2", "b", 2), order("order_3", "c", 3)),
        tombstones(0, 10)), true, NOW, Map.of());
    IntervalCommitter.commit(t, List.of(
        records(10, 20, order("order_1", "a2", 11), order("order_3", "c2", 13)),
        tombstones(10, 20, tombstone("order_2", 12))), true, NOW, Map.of());

    Table table = t.target().load();
    assertEquals(Map.of("order_1", "a2", "order_3", "c2"), rows(table));
    Set<String> deletes = new TreeSet<>();
    table.currentSnapshot().addedDeleteFiles(table.io())
        .forEach(f -> deletes.add(f.specId() + " " + f.partition().get(0, Object.class)));
    assertEquals(Set.of("1 a", "1 b", "1 c"), deletes);
  }

  /**
   * Maintenance compacts the table while an interval's commit merges against its old files: the
   * commit's deletes are moved onto the compacted files. It failed the job (a DirectRunner run stopped;
   * Flink restarted it from its last checkpoint) whenever a compaction landed inside a commit.
   */
  @Test
  void aCompactionDuringACommitHasTheCommitsDeletesMovedNotAFailure() {
    ContinuousTable t = table();
    IntervalCommitter.commit(t, List.of(
        records(0, 10, order("order_1", "a", 1), order("order_2", "b", 2), order("order_3", "c", 3)),
        tombstones(0, 10)), true, NOW, Map.of());
    IntervalCommitter.commit(t, List.of(records(10, 20, order("order_1", "a2", 11)), tombstones(10, 20)), true, NOW,
        Map.of());
    Runnable maintenance = () -> assertEquals(1,
        Maintenance.maintain(t.target().load(), Maintenance.Settings.defaults(), Clock.systemUTC()).dataFilesAfter());

    IntervalCommitter.Outcome third = IntervalCommitter.commit(t, List.of(
        records(20, 30, order("order_1", "a3", 21), order("order_3", "c3", 23)),
        tombstones(20, 30, tombstone("order_2", 22))), true, NOW, Map.of(), maintenance);

    assertTrue(third.committed());
    assertEquals(List.of(), third.remaining());
    Table table = t.target().load();
    assertEquals(Map.of("order_1", "a3", "order_3", "c3"), rows(table));
    assertEquals(at(30), cursors(table).get("records"));
    assertEquals(at(30), cursors(table).get("deleted_records"));
    assertEquals(List.of("order_1", "order_1", "order_1", "order_2", "order_2", "order_3", "order_3"),
        changeFeedKeys(t), "each change once");
  }

  /** Another writer's commit that is no compaction still fails the commit: one ingestion per table. */
  @Test
  void anotherWritersCommitDuringACommitStillFailsIt() {
    ContinuousTable t = table();
    IntervalCommitter.commit(t, List.of(records(0, 10, order("order_1", "a", 1)), tombstones(0, 10)), true, NOW, Map.of());
    Runnable anotherRun = () -> t.target().load().newAppend().set(SnapshotSummary.RUN_ID, "run-2").commit();

    IllegalStateException failure = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> IntervalCommitter.commit(t, List.of(records(10, 20, order("order_1", "a2", 11)), tombstones(10, 20)),
            true, NOW, Map.of(), anotherRun));

    assertTrue(failure.getMessage().contains("of run run-2 was committed since"), failure.getMessage());
    assertEquals(Map.of("order_1", "a"), rows(t.target().load()));
  }

  @Test
  void batchesWithoutRowsMoveTheCursorOnlyWhenAsked() {
    ContinuousTable t = table();
    List<FeedBatch> idle = List.of(records(0, 10), records(10, 20), records(20, 30), tombstones(0, 30));

    IntervalCommitter.Outcome held = IntervalCommitter.commit(t, idle, false, NOW, Map.of());
    assertFalse(held.committed());
    assertEquals(java.util.Set.of(records(0, 30), tombstones(0, 30)), java.util.Set.copyOf(held.remaining()),
        "kept, adjacent ones as one");
    assertEquals(0, snapshots(t));

    IntervalCommitter.Outcome committed = IntervalCommitter.commit(t, held.remaining(), true, NOW, Map.of());
    assertTrue(committed.committed());
    assertEquals(at(30), cursors(t.target().load()).get("records"));
    assertEquals(Map.of(), rows(t.target().load()));
  }

  /**
   * A job resumed from a savepoint after its table was dropped and created again: its committer's
   * state says it committed up to 10, its batches (and its reads, from the same savepoint) start
   * there, and the table holds nothing. The rows below 10 will never come: it fails, naming the
   * table and what to do, instead of holding its batches for ever.
   */
  @Test
  void aTableDroppedBelowTheCursorsTheCommitterReachedFailsNamingIt() {
    ContinuousTable t = table();
    IntervalCommitter.Outcome first = IntervalCommitter.commit(t,
        List.of(records(0, 10, order("order_1", "a", 5)), tombstones(0, 10)), true, NOW, Map.of());
    assertEquals(Map.of("records", T0 + 10 * SECOND, "deleted_records", T0 + 10 * SECOND), first.cursors());
    Catalog catalog = t.target().catalog().load();
    catalog.dropTable(TableIdentifier.of("main", "example", "orders"), true);
    catalog.dropTable(TableIdentifier.of("main", "example", "orders__changes"), true);
    ContinuousTable resumed = table(); // the job resumed from the savepoint: planned from the new tables

    List<FeedBatch> restored = List.of(records(10, 20, order("order_2", "b", 15)), tombstones(10, 20));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> IntervalCommitter.commit(resumed, restored, true, NOW, first.cursors()));
    assertTrue(e.getMessage().startsWith("main.example.orders: its cursor for "), e.getMessage());
    assertTrue(e.getMessage().contains(" is none (an empty table), below 2026-01-01T00:00:10.000000+00:00"), e.getMessage());
    assertTrue(e.getMessage().endsWith("start it again without --savepointPath: it reads each table from the cursors"
        + " the table holds"), e.getMessage());
    assertEquals(0, snapshots(t), "nothing committed above the rows it lacks");
  }

  /**
   * The table went on past the committer's state (a bounded run, or the job that went on after
   * an older savepoint): what it holds is not committed again, and the rest is.
   */
  @Test
  void aTableAheadOfTheCursorsTheCommitterReachedTakesOnlyWhatItLacks() {
    ContinuousTable t = table();
    Map<String, Long> reached = Map.of("records", T0, "deleted_records", T0);
    IntervalCommitter.commit(t, List.of(records(0, 10, order("order_1", "a", 5)), tombstones(0, 10)), true, NOW,
        Map.of());

    IntervalCommitter.Outcome restored = IntervalCommitter.commit(t,
        List.of(records(0, 20, order("order_1", "a", 5), order("order_2", "b", 15)), tombstones(0, 20)), true, NOW,
        reached);
    assertTrue(restored.committed());
    assertEquals(List.of("order_1", "order_2"), changeFeedKeys(t));
    assertEquals(Map.of("order_1", "a", "order_2", "b"), rows(t.target().load()));
  }

  private ContinuousTable table() {
    return table(T0);
  }

  /** The tables created empty, and a run's committer whose reads start at {@code start}, as planned from them. */
  private ContinuousTable table(long start) {
    CatalogConfig catalog = CatalogConfig.hadoop(dir.toString());
    Destination d = new Destination("main", "example", "orders");
    MergeRule rule = new MergeRule(ScdType.SCD_TYPE_1, List.of("order_id"), "updated_at", false);
    Warehouse warehouse = new Warehouse(catalog);
    Table table = warehouse.create(d, TableSchemas.toIceberg(rule.tableSchema(feedSchema), rule.identifierColumns()), Map.of());
    Table feed = warehouse.create(d.changeFeed(), TableSchemas.toIceberg(feedSchema, List.of()), Map.of());
    return new ContinuousTable(new TableTarget(catalog, d), rule, feedSchema.toString(), "updated_at",
        Map.of("records", start, "deleted_records", start), false, "run-1",
        Map.of(d.key(), table.uuid().toString(), d.changeFeed().key(), feed.uuid().toString()));
  }

  /**
   * The tables dropped and created again (empty, by another run's planning, to load them again)
   * while a continuous run that planned from their cursors follows them: its first commit landed
   * in the new tables with its batches' rows only, from where its reads began, and cursors
   * claiming every row before (order_1 lost for good); after a commit it held every batch for
   * good (a gap from where its reads began).
   */
  @Test
  void tablesDroppedAndCreatedAgainUnderTheRunAreNotCommittedTo() {
    ContinuousTable t = table(T0 + 10 * SECOND); // planned from cursors at 10 s: order_1 (5 s) in the table
    CatalogConfig catalog = t.target().catalog();
    catalog.load().dropTable(t.target().destination().identifier());
    catalog.load().dropTable(t.target().changeFeed().destination().identifier());
    table(T0); // the other run's plan creates them again

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> IntervalCommitter.commit(t, List.of(records(10, 20, order("order_2", "b", 15)), tombstones(10, 20)), true, NOW,
            Map.of()));

    assertTrue(e.getMessage().startsWith("table main.example.orders"), e.getMessage());
    assertTrue(e.getMessage().contains("dropped and created again"), e.getMessage());
    assertTrue(e.getMessage().contains("start it again"), e.getMessage());
    assertEquals(0, snapshots(t), "the new table: not committed");
    assertEquals(List.of(), changeFeedKeys(t), "nor its change feed");
  }

  private static FeedBatch records(int fromSeconds, int toSeconds, GenericRecord... rows) {
    return new FeedBatch("records", T0 + fromSeconds * SECOND, T0 + toSeconds * SECOND, List.of(rows));
  }

  private static FeedBatch tombstones(int fromSeconds, int toSeconds, GenericRecord... rows) {
    return new FeedBatch("deleted_records", T0 + fromSeconds * SECOND, T0 + toSeconds * SECOND, List.of(rows));
  }

  private static GenericRecord order(String id, String status, int atSeconds) {
    ObjectNode record = JSON.createObjectNode().put("order_id", id).put("status", status)
        .put("updated_at", at(atSeconds));
    return SourceRows.toRow(feedSchema, orders, record, new RunStamp("run-1", T0), "upsert");
  }

  private static GenericRecord tombstone(String id, int atSeconds) {
    ObjectNode record = JSON.createObjectNode().put("order_id", id).put("updated_at", at(atSeconds));
    return SourceRows.toRow(feedSchema, orders, record, new RunStamp("run-1", T0), "delete");
  }

  private static String at(int seconds) {
    return Timestamps.formatMicros(T0 + seconds * SECOND);
  }

  /** The table's rows: order id to status. */
  private static Map<String, String> rows(Table table) {
    Map<String, String> rows = new TreeMap<>();
    CrashCheck.read(table).forEach(r -> rows.put(r.getField("order_id").toString(), String.valueOf(r.getField("status"))));
    return rows;
  }

  private List<String> changeFeedKeys(ContinuousTable t) {
    List<String> keys = new ArrayList<>();
    CrashCheck.read(t.target().changeFeed().load()).forEach(r -> keys.add(r.getField("order_id").toString()));
    keys.sort(null);
    return keys;
  }

  private static Map<String, String> cursors(Table table) {
    return SnapshotSummary.cursors(table.currentSnapshot());
  }

  private static int snapshots(ContinuousTable t) {
    int n = 0;
    for (var ignored : t.target().load().snapshots()) {
      n++;
    }
    return n;
  }
}
