package com.example.connector.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.IcebergFiles;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The commit of a run's files into real Iceberg tables (a Hadoop catalog in a temporary
 * directory, and a JDBC catalog on SQLite where a table's commit must fail in the catalog itself):
 * idempotent by run id, optimistic against the snapshot the run planned from, per table.
 */
class TableCommitterTest {
  private static final Schema SCHEMA = new Schema(
      List.of(Types.NestedField.required(1, "id", Types.StringType.get()),
          Types.NestedField.optional(2, "name", Types.StringType.get())),
      Set.of(1));
  private static final String AT = "2024-03-01T00:00:00Z";

  @TempDir Path dir;

  @Test
  void committingTheSameRunTwiceCommitsOnce() {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Destination users = new Destination("main", "example", "users");
    Table table = new Warehouse(config).create(users, SCHEMA, Map.of());
    RunCommit run = run("run-1", commit(config, users, null, Map.of("records", AT)));
    List<WrittenFile> files = List.of(written(users, dataFile(table, "a", "b")));

    TableCommitter committer = new TableCommitter(config);
    committer.commit(run, files);
    committer.commit(run, files); // a retried bundle, or the commit step run again

    Table after = reload(config, users);
    assertEquals(1, runSnapshots(after, "run-1"), "one snapshot of run-1");
    assertEquals(1, count(after.snapshots()), "and nothing else");
    assertEquals(List.of("a", "b"), ids(after), "rows not doubled");
  }

  /**
   * The commit step as a run applies it, on the DirectRunner: a run that wrote files and a run
   * that wrote none (nothing changed) each end and commit their cursors.
   */
  @Test
  void theCommitStepCommitsARunWithFilesAndARunWithNone() {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Destination users = new Destination("main", "example", "users");
    Table table = new Warehouse(config).create(users, SCHEMA, Map.of());

    runCommitStep(config, run("run-1", commit(config, users, null, Map.of("records", AT))),
        List.of(written(users, dataFile(table, "a", "b"))));
    long first = reload(config, users).currentSnapshot().snapshotId();
    runCommitStep(config, run("run-2", commit(config, users, first, Map.of("records", "2024-03-02T00:00:00Z"))), List.of());

    Table after = reload(config, users);
    assertEquals(List.of("a", "b"), ids(after));
    assertEquals(1, runSnapshots(after, "run-2"), "the run that wrote nothing committed");
    assertEquals("2024-03-02T00:00:00Z", after.currentSnapshot().summary().get("example.cursor.records"));
  }

  /**
   * The run's files reach the commit through a grouping, not a side input: an empty view (a run
   * that wrote nothing) is ready on the DirectRunner only from a watermark callback that does not
   * wake its scheduler, and the commit waiting on it was then sometimes never retried: the run
   * hung (about one run in a few hundred such runs under GC pressure). A race cannot be a
   * deterministic test, so this pins the shape that cannot have it.
   */
  @Test
  void theCommitStepTakesNoSideInput() {
    Pipeline pipeline = Pipeline.create();
    PCollection<WrittenFile> none = pipeline.apply(Create.empty(IcebergValueCoder.of(WrittenFile.class)));
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    pipeline.apply("Commit", new CommitTables(run("run-1"), new TableCommitter(config), List.of(none)));
    List<String> withSideInputs = new ArrayList<>();
    pipeline.traverseTopologically(new Pipeline.PipelineVisitor.Defaults() {
      @Override
      public void visitPrimitiveTransform(TransformHierarchy.Node node) {
        if (node.getTransform() instanceof ParDo.MultiOutput<?, ?> parDo && !parDo.getSideInputs().isEmpty()) {
          withSideInputs.add(node.getFullName());
        }
      }
    });
    assertEquals(List.of(), withSideInputs);
  }

  private static void runCommitStep(CatalogConfig config, RunCommit run, List<WrittenFile> files) {
    Pipeline pipeline = Pipeline.create();
    PCollection<WrittenFile> written = pipeline.apply("Files", Create.of(files).withCoder(IcebergValueCoder.of(WrittenFile.class)));
    pipeline.apply("Commit", new CommitTables(run, new TableCommitter(config), List.of(written)));
    // Bounded, so that a run that never ends fails the test instead of hanging the build.
    assertEquals(PipelineResult.State.DONE, pipeline.run().waitUntilFinish(Duration.standardMinutes(2)), run.runId());
  }

  @Test
  void ofTwoRunsPlannedFromTheSameSnapshotTheSecondCommitsNothingAndFails() {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Destination users = new Destination("main", "example", "users");
    Table table = new Warehouse(config).create(users, SCHEMA, Map.of());
    table.newAppend().appendFile(dataFile(table, "base")).commit();
    long base = reload(config, users).currentSnapshot().snapshotId();

    RunCommit first = run("run-1", commit(config, users, base, Map.of("records", AT)));
    RunCommit second = run("run-2", commit(config, users, base, Map.of("records", "2024-03-02T00:00:00Z")));
    List<WrittenFile> firstFiles = List.of(written(users, dataFile(table, "first")));
    List<WrittenFile> secondFiles = List.of(written(users, dataFile(table, "second")));

    TableCommitter committer = new TableCommitter(config);
    committer.commit(first, firstFiles);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> committer.commit(second, secondFiles));

    assertTrue(e.getMessage().startsWith("table main.example.users changed while run run-2 read it"), e.getMessage());
    assertTrue(e.getMessage().contains("run again"), e.getMessage());
    Table after = reload(config, users);
    assertEquals(List.of("base", "first"), ids(after), "the base and the first run's rows only");
    assertEquals(0, runSnapshots(after, "run-2"));
    assertEquals(AT, after.currentSnapshot().summary().get("example.cursor.records"), "the first run's cursor");
  }

  /**
   * Another run's commit lands between this run's check of its base and its own commit, inside
   * the catalog's commit (Iceberg then retries on the new metadata): the retry fails, whether the
   * run commits only cursors or only files (an append) or deletes too (a row delta), and it
   * commits nothing.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cursors", "files", "files and deletes"})
  void aCommitRacedAtTheCatalogCommitsNothingAndFails(String what) {
    String warehouse = dir.toString();
    CatalogConfig config = CatalogConfig.of("racing", null, RacingCatalog.class.getName(), null, warehouse, warehouse, Map.of());
    Destination users = new Destination("main", "example", "users");
    Table table = new Warehouse(config).create(users, SCHEMA, Map.of());
    DataFile baseFile = dataFile(table, "base");
    table.newAppend().appendFile(baseFile).commit();
    long base = reload(config, users).currentSnapshot().snapshotId();
    List<WrittenFile> files = new ArrayList<>();
    if (!what.equals("cursors")) {
      files.add(written(users, dataFile(table, "mine")));
    }
    if (what.equals("files and deletes")) {
      files.add(new WrittenFile(users.key(), IcebergFiles.positionDeletes(table, baseFile, 0), List.of(baseFile.path().toString())));
    }
    RacingCatalog.race.set(() -> {
      Table other = CatalogConfig.hadoop(warehouse).load().loadTable(users.identifier());
      other.newAppend().appendFile(dataFile(other, "other")).set("example.run-id", "run-2").commit();
    });

    RunCommit run = run("run-1", commit(config, users, base, Map.of("records", AT)));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> new TableCommitter(config).commit(run, files));

    assertNull(RacingCatalog.race.get(), "the other run committed inside this run's commit");
    assertTrue(e.getMessage().startsWith("table main.example.users changed while run run-1 read it"), e.getMessage());
    Table after = CatalogConfig.hadoop(warehouse).load().loadTable(users.identifier());
    assertEquals(List.of("base", "other"), ids(after), "the base and the other run's rows only");
    assertEquals(0, runSnapshots(after, "run-1"));
  }

  /**
   * A compaction (another engine's {@code rewrite_data_files}, or maintenance) committed since the
   * run planned: the run's rows and its deletes land on top of it (before, the run failed saying
   * to run again whenever maintenance compacted during it). A delete of a row in a file the
   * compaction replaced deletes that row where the compaction wrote it (here in another order, at
   * another position); before, that commit failed, committing nothing.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"files", "files and deletes of a kept file", "files and deletes of a replaced file"})
  void aCompactionSinceTheRunPlannedIsCommittedOn(String what) {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Destination users = new Destination("main", "example", "users");
    Table table = new Warehouse(config).create(users, SCHEMA, Map.of());
    DataFile kept = dataFile(table, "a", "b");
    DataFile replaced = dataFile(table, "c", "d");
    table.newAppend().appendFile(kept).appendFile(replaced).set("example.run-id", "run-0").commit();
    long base = reload(config, users).currentSnapshot().snapshotId();
    List<WrittenFile> files = new ArrayList<>(List.of(written(users, dataFile(table, "mine"))));
    DataFile deletedFrom = what.endsWith("kept file") ? kept : replaced;
    if (what.contains("deletes")) {
      files.add(new WrittenFile(users.key(), IcebergFiles.positionDeletes(table, deletedFrom, 0),
          List.of(deletedFrom.path().toString())));
    }
    Table compactor = reload(config, users);
    compactor.newRewrite().rewriteFiles(Set.of(replaced), Set.of(dataFile(compactor, "d", "c"))).commit();

    new TableCommitter(config).commit(run("run-1", commit(config, users, base, Map.of("records", AT))), files);

    Table after = reload(config, users);
    List<String> expected = switch (what) {
      case "files" -> List.of("a", "b", "c", "d", "mine");
      case "files and deletes of a kept file" -> List.of("b", "c", "d", "mine");
      default -> List.of("a", "b", "d", "mine");
    };
    assertEquals(expected, ids(after));
    assertEquals(AT, after.currentSnapshot().summary().get("example.cursor.records"));
    assertEquals(1, runSnapshots(after, "run-1"));
  }

  /**
   * A rewrite since the run planned that lost a row the run deletes (not a faithful compaction):
   * the delete has nowhere to go, so the run commits nothing to the table and says to run again.
   */
  @Test
  void aRewriteThatLostARowTheRunDeletesCommitsNothing() {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Destination users = new Destination("main", "example", "users");
    Table table = new Warehouse(config).create(users, SCHEMA, Map.of());
    DataFile replaced = dataFile(table, "c", "d");
    table.newAppend().appendFile(replaced).set("example.run-id", "run-0").commit();
    long base = reload(config, users).currentSnapshot().snapshotId();
    List<WrittenFile> files = List.of(written(users, dataFile(table, "mine")),
        new WrittenFile(users.key(), IcebergFiles.positionDeletes(table, replaced, 0), List.of(replaced.path().toString())));
    Table rewriter = reload(config, users);
    rewriter.newRewrite().rewriteFiles(Set.of(replaced), Set.of(dataFile(rewriter, "d"))).commit();

    RunCommit run = run("run-1", commit(config, users, base, Map.of("records", AT)));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> new TableCommitter(config).commit(run, files));

    assertTrue(e.getMessage().startsWith("table main.example.users changed while run run-1 read it"), e.getMessage());
    assertTrue(e.getMessage().contains("run again"), e.getMessage());
    assertEquals(List.of("d"), ids(reload(config, users)), "as rewritten: nothing of run-1");
    assertEquals(0, runSnapshots(reload(config, users), "run-1"));
  }

  /**
   * A Hadoop catalog whose next table commit first lets {@link #race} commit to the table (the
   * other run of a race), so that this commit's metadata is stale when the catalog swaps it in.
   */
  public static final class RacingCatalog extends HadoopCatalog {
    static final AtomicReference<Runnable> race = new AtomicReference<>();

    @Override
    protected TableOperations newTableOps(TableIdentifier identifier) {
      return new BeforeCommitOperations(super.newTableOps(identifier), base -> {
        Runnable other = race.getAndSet(null);
        if (other != null) {
          other.run();
        }
      });
    }
  }

  /**
   * A table whose base is stale fails the run before any table is committed: the committer checks
   * every table first, so the other table of the run is not committed either.
   */
  @Test
  void aStaleBaseOfOneTableCommitsNoTableOfTheRun() {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Destination a = new Destination("main", "example", "a");
    Destination b = new Destination("main", "example", "b");
    Warehouse warehouse = new Warehouse(config);
    Table tableA = warehouse.create(a, SCHEMA, Map.of());
    Table tableB = warehouse.create(b, SCHEMA, Map.of());
    tableB.newAppend().appendFile(dataFile(tableB, "b-base")).commit();
    long planned = reload(config, b).currentSnapshot().snapshotId();
    tableB.newAppend().appendFile(dataFile(tableB, "b-since")).commit(); // another writer, after the plan

    RunCommit run = run("run-1", commit(config, a, null, Map.of("records", AT)),
        commit(config, b, planned, Map.of("records", AT)));
    List<WrittenFile> files = List.of(written(a, dataFile(tableA, "a1")), written(b, dataFile(tableB, "b1")));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> new TableCommitter(config).commit(run, files));

    assertTrue(e.getMessage().startsWith("table main.example.b changed while run run-1 read it"), e.getMessage());
    assertNull(reload(config, a).currentSnapshot(), "a: not committed");
    assertEquals(List.of("b-base", "b-since"), ids(reload(config, b)));
  }

  /**
   * B's commit fails in the catalog (a SQLite trigger refuses B's new metadata) after A's
   * succeeded: A keeps its rows and cursors, B stays at its base; the same run committed again
   * then skips A and commits B.
   */
  @Test
  void aTableWhoseCommitFailsAfterAnotherWasCommittedStaysAtItsBase() throws Exception {
    // WAL: Iceberg's JdbcCatalog leaves a read open on its first connection (an unclosed
    // ResultSet), which in SQLite's default journal mode blocks every other connection's writes.
    String db = "jdbc:sqlite:" + dir.resolve("catalog.db") + "?journal_mode=WAL";
    String warehouse = dir.resolve("wh").toString();
    CatalogConfig config = CatalogConfig.of("example", "jdbc", null, db, warehouse, warehouse, Map.of());
    Destination a = new Destination("main", "example", "a");
    Destination b = new Destination("main", "example", "b");
    Warehouse tables = new Warehouse(config);
    Table tableA = tables.create(a, SCHEMA, Map.of());
    Table tableB = tables.create(b, SCHEMA, Map.of());
    tableB.newAppend().appendFile(dataFile(tableB, "b-base")).set("example.cursor.records", "2024-02-01T00:00:00Z")
        .commit();
    long baseB = reload(config, b).currentSnapshot().snapshotId();

    RunCommit run = run("run-1", commit(config, a, null, Map.of("records", AT)),
        commit(config, b, baseB, Map.of("records", AT)));
    List<WrittenFile> files = List.of(written(a, dataFile(tableA, "a1")), written(b, dataFile(tableB, "b1")));
    try (Connection sql = DriverManager.getConnection(db); Statement s = sql.createStatement()) {
      s.execute("CREATE TRIGGER refuse_b BEFORE UPDATE ON iceberg_tables WHEN OLD.table_name = 'b'"
          + " BEGIN SELECT RAISE(ABORT, 'the catalog refuses b'); END");
      RuntimeException e = assertThrows(RuntimeException.class, () -> new TableCommitter(config).commit(run, files));
      assertTrue(causes(e).contains("the catalog refuses b"), causes(e));

      Table afterA = reload(config, a);
      assertEquals(List.of("a1"), ids(afterA));
      assertEquals(AT, afterA.currentSnapshot().summary().get("example.cursor.records"));
      Table afterB = reload(config, b);
      assertEquals(baseB, afterB.currentSnapshot().snapshotId(), "b at its base");
      assertEquals("2024-02-01T00:00:00Z", afterB.currentSnapshot().summary().get("example.cursor.records"));
      assertEquals(List.of("b-base"), ids(afterB));

      s.execute("DROP TRIGGER refuse_b");
    }
    new TableCommitter(config).commit(run, files);
    assertEquals(List.of("a1"), ids(reload(config, a)), "a: not committed again");
    assertEquals(1, runSnapshots(reload(config, a), "run-1"));
    assertEquals(List.of("b-base", "b1"), ids(reload(config, b)));
    assertEquals(AT, reload(config, b).currentSnapshot().summary().get("example.cursor.records"));
  }

  /**
   * A run planned from a table with no snapshot yet (a new destination) whose table was dropped and
   * created again while it read (by another run, or by hand to load it again): the table under that
   * name is another one, and also has no snapshot. The run committed into it, its snapshot naming
   * files the drop had deleted (every read of the table then failed: File does not exist), its rows
   * read with the old table's settings and its cursor claiming them.
   */
  @Test
  void aRunPlannedBeforeItsTableWasDroppedAndCreatedAgainCommitsNothingToIt() {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Destination users = new Destination("main", "example", "users");
    Table table = new Warehouse(config).create(users, SCHEMA, Map.of());
    RunCommit run = run("run-1", commit(config, users, null, Map.of("records", AT)));
    List<WrittenFile> files = List.of(written(users, dataFile(table, "a", "b")));
    config.load().dropTable(users.identifier());
    new Warehouse(config).create(users, SCHEMA, Map.of()); // the other run's, not yet committed

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> new TableCommitter(config).commit(run, files));

    assertTrue(e.getMessage().startsWith("table main.example.users changed while run run-1 read it"), e.getMessage());
    assertTrue(e.getMessage().contains("dropped and created again"), e.getMessage());
    assertTrue(e.getMessage().contains("run again"), e.getMessage());
    assertNull(reload(config, users).currentSnapshot(), "the new table: not committed");
  }

  /**
   * Two runs sharing two tables, whose specs list them in other orders, commit at once: both pass
   * the check of every table before either commits, then each commits its first table. Each
   * committed one of the two and failed on the other, so neither run committed (both said to run
   * again), instead of one committing both and the other none.
   */
  @Test
  void ofTwoRunsListingTheirTablesInOtherOrdersOneCommitsThemAll() throws Exception {
    String warehouse = dir.toString();
    CatalogConfig config = CatalogConfig.of("hooked", null, HookedCatalog.class.getName(), null, warehouse, warehouse, Map.of());
    Destination a = new Destination("main", "example", "a");
    Destination b = new Destination("main", "example", "b");
    Table tableA = new Warehouse(config).create(a, SCHEMA, Map.of());
    Table tableB = new Warehouse(config).create(b, SCHEMA, Map.of());
    RunCommit first = run("run-1", commit(config, a, null, Map.of("records", AT)), commit(config, b, null, Map.of("records", AT)));
    RunCommit second = run("run-2", commit(config, b, null, Map.of("records", AT)), commit(config, a, null, Map.of("records", AT)));
    List<WrittenFile> firstFiles = List.of(written(a, dataFile(tableA, "a1")), written(b, dataFile(tableB, "b1")));
    List<WrittenFile> secondFiles = List.of(written(b, dataFile(tableB, "b2")), written(a, dataFile(tableA, "a2")));

    // run-1 about to commit table a: run-2 checks both tables and commits until it is about to commit
    // table a too, which it does once run-1 has finished.
    CountDownLatch secondAtA = new CountDownLatch(1);
    CountDownLatch firstDone = new CountDownLatch(1);
    AtomicReference<Thread> secondRun = new AtomicReference<>();
    HookedCatalog.hook = table -> {
      if (Thread.currentThread() == secondRun.get() && table.equals("a")) {
        secondAtA.countDown();
        await(firstDone);
      } else if (secondRun.get() == null && table.equals("a")) {
        Thread t = new Thread(() -> {
          try {
            new TableCommitter(config).commit(second, secondFiles);
          } catch (IllegalStateException e) {
            // told to run again
          }
        });
        secondRun.set(t);
        t.start();
        await(secondAtA);
      }
    };
    try {
      new TableCommitter(config).commit(first, firstFiles);
    } catch (IllegalStateException e) {
      // told to run again
    } finally {
      firstDone.countDown();
      HookedCatalog.hook = null;
    }
    secondRun.get().join();

    String runOfA = SnapshotSummary.runId(reload(config, a).currentSnapshot());
    String runOfB = SnapshotSummary.runId(reload(config, b).currentSnapshot());
    assertEquals(runOfA, runOfB, "a: " + ids(reload(config, a)) + ", b: " + ids(reload(config, b)));
    assertEquals(1, count(reload(config, a).snapshots()), "a: one run's commit");
    assertEquals(1, count(reload(config, b).snapshots()), "b: one run's commit");
  }

  /** A Hadoop catalog that calls {@link #hook} with a table's name before each commit to it. */
  public static final class HookedCatalog extends HadoopCatalog {
    static volatile Consumer<String> hook;

    @Override
    protected TableOperations newTableOps(TableIdentifier identifier) {
      return new BeforeCommitOperations(super.newTableOps(identifier), base -> {
        Consumer<String> h = hook;
        if (h != null) {
          h.accept(identifier.name());
        }
      });
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      assertTrue(latch.await(1, TimeUnit.MINUTES), "the other run did not get there");
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theRunIdAndCursorsLandInTheSnapshotSummary() {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Destination orders = new Destination("main", "example", "orders");
    Table table = new Warehouse(config).create(orders, SCHEMA, Map.of());
    RunCommit run = new RunCommit("20240301T000000Z-abcdef", "2024-03-01T00:00:05Z",
        List.of(commit(config, orders, null,
            Map.of("records", "2024-03-01T00:00:00.123456Z", "deleted_records", "2024-02-29T23:59:59Z"))));
    new TableCommitter(config).commit(run, List.of(written(orders, dataFile(table, "o1"))));

    Map<String, String> summary = reload(config, orders).currentSnapshot().summary();
    assertEquals("20240301T000000Z-abcdef", summary.get("example.run-id"));
    assertEquals("2024-03-01T00:00:05Z", summary.get("example.committed-at"));
    assertEquals("2024-03-01T00:00:00.123456Z", summary.get("example.cursor.records"));
    assertEquals("2024-02-29T23:59:59Z", summary.get("example.cursor.deleted_records"));
    assertEquals("1", summary.get("added-data-files"));
    // Files only: an append, which readers following a table's appends see.
    assertEquals("append", reload(config, orders).currentSnapshot().operation());
  }

  private static RunCommit run(String runId, TableCommit... tables) {
    return new RunCommit(runId, AT, List.of(tables));
  }

  private static TableCommit commit(CatalogConfig config, Destination d, Long base, Map<String, String> cursors) {
    String uuid = reload(config, d).uuid().toString(); // the table as the run planned from it
    return new TableCommit(new TableTarget(config, d), uuid, base, cursors);
  }

  private static WrittenFile written(Destination d, DataFile file) {
    return new WrittenFile(d.key(), file, List.of());
  }

  private static Table reload(CatalogConfig config, Destination d) {
    return config.load().loadTable(d.identifier());
  }

  /** A data file of the table holding one row per id, written with Iceberg's own Parquet writer. */
  private static DataFile dataFile(Table table, String... ids) {
    List<Record> rows = new ArrayList<>();
    for (String id : ids) {
      Record row = GenericRecord.create(table.schema());
      row.setField("id", id);
      row.setField("name", "name of " + id);
      rows.add(row);
    }
    return IcebergFiles.dataFile(table, rows);
  }

  private static List<String> ids(Table table) {
    List<String> ids = new ArrayList<>();
    IcebergFiles.rows(table).forEach(r -> ids.add(r.getField("id").toString()));
    ids.sort(null);
    return ids;
  }

  private static long runSnapshots(Table table, String runId) {
    long n = 0;
    for (Snapshot s : table.snapshots()) {
      n += runId.equals(s.summary().get("example.run-id")) ? 1 : 0;
    }
    return n;
  }

  private static String causes(Throwable e) {
    StringBuilder messages = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      messages.append(t).append('\n');
    }
    return messages.toString();
  }

  private static long count(Iterable<?> items) {
    long n = 0;
    for (Object ignored : items) {
      n++;
    }
    return n;
  }
}
