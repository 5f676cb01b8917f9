package com.example.connector.table;

import java.util.Objects;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.encryption.EncryptionManager;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.LocationProvider;
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
    return new BaseTable(new Operations(((HasTableOperations) table).operations(), snapshotId), table.name());
  }

  private record Operations(TableOperations ops, @Nullable Long snapshotId) implements TableOperations {
    @Override
    public void commit(TableMetadata base, TableMetadata metadata) {
      Snapshot current = base.currentSnapshot();
      Long currentId = current == null ? null : current.snapshotId();
      String run = current == null ? null : SnapshotSummary.runId(current);
      ValidationException.check(Objects.equals(currentId, snapshotId), "snapshot %s%s was committed since %s",
          currentId, run == null ? "" : " of run " + run, snapshotId == null ? "the start" : "snapshot " + snapshotId);
      ops.commit(base, metadata);
    }

    @Override
    public TableMetadata current() {
      return ops.current();
    }

    @Override
    public TableMetadata refresh() {
      return ops.refresh();
    }

    @Override
    public FileIO io() {
      return ops.io();
    }

    @Override
    public EncryptionManager encryption() {
      return ops.encryption();
    }

    @Override
    public String metadataFileLocation(String fileName) {
      return ops.metadataFileLocation(fileName);
    }

    @Override
    public LocationProvider locationProvider() {
      return ops.locationProvider();
    }

    @Override
    public TableOperations temp(TableMetadata uncommittedMetadata) {
      return ops.temp(uncommittedMetadata);
    }

    @Override
    public long newSnapshotId() {
      return ops.newSnapshotId();
    }

    @Override
    public boolean requireStrictCleanup() {
      return ops.requireStrictCleanup();
    }
  }
}
