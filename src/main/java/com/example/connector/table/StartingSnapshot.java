package com.example.connector.table;

import java.util.Objects;
import org.apache.iceberg.BaseTable;
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
 */
final class StartingSnapshot {
  private StartingSnapshot() {}

  /** {@code table} for commits that must start from {@code snapshotId} (null: from no snapshot). */
  static Table of(Table table, @Nullable Long snapshotId) {
    return new BaseTable(new BeforeCommitOperations(((HasTableOperations) table).operations(),
        base -> check(base.currentSnapshot(), snapshotId)), table.name());
  }

  /** Fails with a {@link ValidationException} unless {@code current} is {@code snapshotId}. */
  static void check(@Nullable Snapshot current, @Nullable Long snapshotId) {
    Long currentId = current == null ? null : current.snapshotId();
    String run = current == null ? null : SnapshotSummary.runId(current);
    ValidationException.check(Objects.equals(currentId, snapshotId), "snapshot %s%s was committed since %s",
        currentId, run == null ? "" : " of run " + run, snapshotId == null ? "the start" : "snapshot " + snapshotId);
  }
}
