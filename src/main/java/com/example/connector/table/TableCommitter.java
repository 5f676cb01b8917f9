package com.example.connector.table;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.exceptions.ValidationException;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits a run's written files and cursors, one Iceberg commit per table, in the shape of
 * Iceberg's Flink committer ({@code IcebergFilesCommitter}): idempotent, because the run id is in
 * the snapshot summary and a table already holding it is skipped (a retried bundle, or a commit
 * step run twice); optimistic, because each table must still be at the snapshot the run planned
 * from, checked before any table is committed and again inside the catalog's commit itself
 * ({@link StartingSnapshot}), so of two runs on one table one commits and the other commits nothing
 * to it and fails. Files only (or none) are committed as an append, deletes as a row delta.
 *
 * <p>Each table's cursors are committed with its data, so a crash between the commits of two
 * tables leaves each table consistent with its own cursors: the next run reads each table on from
 * where it is. An SCD table's change feed is committed before the table; the planner starts the
 * next read at the lower of the two cursors, and rows the feed already has are not appended
 * again.
 */
public final class TableCommitter implements Serializable {
  private static final Logger LOG = LoggerFactory.getLogger(TableCommitter.class);

  private final CatalogConfig catalogConfig;

  public TableCommitter(CatalogConfig catalogConfig) {
    this.catalogConfig = catalogConfig;
  }

  public void commit(RunCommit run, List<WrittenFile> written) {
    Catalog catalog = catalogConfig.load();
    // Every run commits its tables in one order, so of two runs that share tables and both passed
    // the check below, the first to commit the first shared one commits them all, the other none.
    List<TableCommit> ordered = run.tables().stream().sorted(COMMIT_ORDER).toList();
    List<Table> tables = new ArrayList<>();
    for (TableCommit t : ordered) {
      Table table = TableTarget.load(catalog, t.target().destination());
      if (!committedBy(table, run.runId(), t.baseSnapshotId())) {
        checkStillAt(table, t, run.runId());
      }
      tables.add(table);
    }
    for (int i = 0; i < tables.size(); i++) {
      commit(tables.get(i), run, ordered.get(i), written);
    }
  }

  /** By destination, an SCD table's change feed just before the table. */
  private static final Comparator<TableCommit> COMMIT_ORDER = Comparator
      .comparing((TableCommit t) -> tableOf(t.target().destination().key()))
      .thenComparing(t -> !t.target().destination().key().endsWith(Destination.CHANGE_FEED_SUFFIX));

  private static String tableOf(String key) {
    return key.endsWith(Destination.CHANGE_FEED_SUFFIX)
        ? key.substring(0, key.length() - Destination.CHANGE_FEED_SUFFIX.length()) : key;
  }

  private void commit(Table table, RunCommit run, TableCommit t, List<WrittenFile> written) {
    String key = t.target().destination().key();
    if (committedBy(table, run.runId(), t.baseSnapshotId())) {
      LOG.info("{}: run {} is already committed", key, run.runId());
      return;
    }
    List<WrittenFile> files = written.stream().filter(f -> f.table().equals(key)).toList();
    try {
      update(table, run, t, files).commit();
    } catch (ValidationException e) {
      List<WrittenFile> moved = deletesOntoCompactions(table, run.runId(), t, files);
      if (moved == null) {
        throw concurrent(key, run.runId(), t.baseSnapshotId(), e.getMessage());
      }
      try {
        update(table, run, t, moved).commit();
      } catch (ValidationException again) {
        throw concurrent(key, run.runId(), t.baseSnapshotId(), again.getMessage());
      }
    }
  }

  /** The run's commit of one table: its files, its id and its cursors, landing on its base (or compactions of it). */
  private static SnapshotUpdate<?> update(Table table, RunCommit run, TableCommit t, List<WrittenFile> files) {
    Table fromBase = StartingSnapshot.of(table, t.tableUuid(), t.baseSnapshotId(), true);
    SnapshotUpdate<?> update = files.stream().allMatch(WrittenFile::isData)
        ? append(fromBase, files) : rowDelta(fromBase, t.baseSnapshotId(), files);
    update.set(SnapshotSummary.RUN_ID, run.runId());
    update.set(SnapshotSummary.COMMITTED_AT, run.committedAt());
    t.cursors().forEach((feed, cursor) -> update.set(SnapshotSummary.CURSOR_PREFIX + feed, cursor));
    return update;
  }

  /**
   * When only compactions were committed since the run's base and one replaced a file the run's
   * deletes name: its files with the deletes naming the compacted files ({@link CompactedDeletes}),
   * so that maintenance beside ingestion does not fail the run; otherwise null.
   */
  private static @Nullable List<WrittenFile> deletesOntoCompactions(Table table, String runId, TableCommit t,
      List<WrittenFile> files) {
    table.refresh();
    if (t.baseSnapshotId() == null || files.stream().allMatch(WrittenFile::isData)
        || !StartingSnapshot.onlyCompactionsSince(table.currentSnapshot(), table::snapshot, t.baseSnapshotId())) {
      return null;
    }
    LOG.info("{}: a compaction replaced files run {} deletes from; its deletes move to the compacted files",
        t.target().destination().key(), runId);
    try {
      return CompactedDeletes.onto(table, t.baseSnapshotId(), t.target().destination().key(), runId, files);
    } catch (NotFoundException e) {
      return null; // the base snapshot's files, expired since the check above: the run must read again
    }
  }

  /**
   * Files only, or none (an append table, a change feed, new keys, cursors that moved): an
   * {@code append} snapshot, as Iceberg's Flink committer makes, which readers following a
   * table's appends see (Spark's and Flink's streaming reads, the incremental append scan).
   */
  private static AppendFiles append(Table table, List<WrittenFile> files) {
    AppendFiles append = table.newAppend();
    files.forEach(f -> append.appendFile(f.dataFile()));
    return append;
  }

  /**
   * With deletes: a row delta (an {@code overwrite} snapshot). The data files its deletes name
   * must be there still: a compaction since {@code base} that replaced one would lose them.
   */
  private static RowDelta rowDelta(Table table, @Nullable Long base, List<WrittenFile> files) {
    RowDelta delta = table.newRowDelta();
    List<String> named = new ArrayList<>();
    files.forEach(f -> {
      if (f.isData()) {
        delta.addRows(f.dataFile());
      } else {
        delta.addDeletes(f.deleteFile());
        named.addAll(f.referencedDataFiles());
      }
    });
    if (base != null) {
      delta.validateFromSnapshot(base);
    }
    return delta.validateDataFilesExist(named);
  }

  /** Whether a snapshot after {@code base} was committed by this run. */
  private static boolean committedBy(Table table, String runId, @Nullable Long base) {
    for (Snapshot s = table.currentSnapshot(); s != null && !Objects.equals(s.snapshotId(), base);
        s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
      if (runId.equals(SnapshotSummary.runId(s))) {
        return true;
      }
    }
    return false;
  }

  private static void checkStillAt(Table table, TableCommit t, String runId) {
    try {
      StartingSnapshot.check(table.uuid().toString(), table.currentSnapshot(), table::snapshot, t.tableUuid(),
          t.baseSnapshotId(), true);
    } catch (ValidationException e) {
      throw concurrent(t.target().destination().key(), runId, t.baseSnapshotId(), e.getMessage());
    }
  }

  /** A table another writer committed to since the snapshot a run planned from: the run committed nothing to it. */
  private static IllegalStateException concurrent(String key, String runId, @Nullable Long base, String what) {
    return new IllegalStateException("table " + key + " changed while run " + runId + " read it (it started from "
        + (base == null ? "no snapshot" : "snapshot " + base) + "; " + what + "): another run or maintenance"
        + " committed to it. This run committed nothing to " + key + "; run again, and it reads on from the"
        + " cursors now committed. Run one ingestion per table at a time.");
  }
}
