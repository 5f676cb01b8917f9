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

  /**
   * {@code table} for commits that must start from {@code snapshotId} (null: from no snapshot) of
   * the table {@code uuid} (null: any).
   */
  static Table of(Table table, @Nullable String uuid, @Nullable Long snapshotId) {
    return new BaseTable(new BeforeCommitOperations(((HasTableOperations) table).operations(),
        base -> check(base.uuid(), base.currentSnapshot(), uuid, snapshotId)), table.name());
  }

  /**
   * Fails with a {@link ValidationException} unless the table is {@code uuid} and {@code current}
   * is {@code snapshotId}.
   */
  static void check(String currentUuid, @Nullable Snapshot current, @Nullable String uuid, @Nullable Long snapshotId) {
    // Dropped and created again, the table under the name is another, whose snapshot may be "none" too.
    ValidationException.check(uuid == null || uuid.equals(currentUuid),
        "the table was dropped and created again since (table uuid %s, was %s)", currentUuid, uuid);
    Long currentId = current == null ? null : current.snapshotId();
    String run = current == null ? null : SnapshotSummary.runId(current);
    ValidationException.check(Objects.equals(currentId, snapshotId), "snapshot %s%s was committed since %s",
        currentId, run == null ? "" : " of run " + run, snapshotId == null ? "the start" : "snapshot " + snapshotId);
  }
}
