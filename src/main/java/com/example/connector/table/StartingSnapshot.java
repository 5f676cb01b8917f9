package com.example.connector.table;

import java.util.Objects;
import java.util.function.LongFunction;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.DataOperations;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.exceptions.ValidationException;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A table whose commits land only on the snapshot a writer started from: the optimistic check
 * inside the catalog's commit. Iceberg retries a commit that lost a race on the refreshed
 * metadata, rebasing it on the other writer's commit (an append is never validated, a rewrite
 * only against new deletes of the files it replaces); this fails that retry instead, with a
 * {@link ValidationException}, which Iceberg neither retries nor leaves manifests behind for.
 *
 * <p>A run's commit may also land on compactions committed since ({@code replace} snapshots:
 * files rewritten, no row changed, the cursors carried on), as Iceberg's Flink and Spark writers
 * do; the row delta of its deletes then requires the files they name to be still there (else
 * {@link CompactedDeletes} moves them).
 */
final class StartingSnapshot {
  private StartingSnapshot() {}

  /**
   * {@code table} for commits that must start from {@code snapshotId} (null: from no snapshot) of
   * the table {@code uuid} (null: any), or from compactions of it when {@code orCompactions}.
   */
  static Table of(Table table, @Nullable String uuid, @Nullable Long snapshotId, boolean orCompactions) {
    return new BaseTable(new BeforeCommitOperations(((HasTableOperations) table).operations(),
        base -> check(base.uuid(), base.currentSnapshot(), base::snapshot, uuid, snapshotId, orCompactions)),
        table.name());
  }

  /**
   * Fails with a {@link ValidationException} unless the table is {@code uuid} and {@code current}
   * is {@code snapshotId}, or, {@code orCompactions}, only compactions of it.
   */
  static void check(String currentUuid, @Nullable Snapshot current, LongFunction<Snapshot> snapshots,
      @Nullable String uuid, @Nullable Long snapshotId, boolean orCompactions) {
    // Dropped and created again, the table under the name is another, whose snapshot may be "none" too.
    ValidationException.check(uuid == null || uuid.equals(currentUuid),
        "the table was dropped and created again since (table uuid %s, was %s)", currentUuid, uuid);
    Long currentId = current == null ? null : current.snapshotId();
    String run = current == null ? null : SnapshotSummary.runId(current);
    ValidationException.check(Objects.equals(currentId, snapshotId)
            || (orCompactions && onlyCompactionsSince(current, snapshots, snapshotId)),
        "snapshot %s%s was committed since %s",
        currentId, run == null ? "" : " of run " + run, snapshotId == null ? "the start" : "snapshot " + snapshotId);
  }

  /** Whether every snapshot from {@code current} back to {@code snapshotId} is a compaction ({@code replace}). */
  static boolean onlyCompactionsSince(@Nullable Snapshot current, LongFunction<Snapshot> snapshots,
      @Nullable Long snapshotId) {
    for (Snapshot s = current; s != null; s = s.parentId() == null ? null : snapshots.apply(s.parentId())) {
      if (Objects.equals(s.snapshotId(), snapshotId)) {
        return true;
      }
      if (!DataOperations.REPLACE.equals(s.operation())) {
        return false;
      }
    }
    return false; // its parent expired, or the table started after: not a compaction of that snapshot
  }
}
