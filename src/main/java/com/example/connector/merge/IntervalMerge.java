package com.example.connector.merge;

import com.example.connector.table.CommittedRead;
import com.example.connector.table.DataFilePartitions;
import com.example.connector.table.KeyScan;
import com.example.connector.table.RowPosition;
import com.example.connector.table.Warehouse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.types.Types;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * {@link MergeChanges} in one process, for the changes of one commit interval of a continuous
 * run: a few seconds of writes, which the table's committer merges itself rather than ship across
 * a shuffle. The same pruning (data files whose key statistics rule every changed key out are not
 * opened; of the others only rows a Bloom filter of the changed keys may hold are kept) and the
 * same replay per key ({@link KeyReplay}), so an interval costs what it changed.
 */
public final class IntervalMerge {

  /**
   * The rows to insert (table schema), the committed rows to delete and the partitions of the
   * files they are in, and the files read and skipped.
   */
  public record Result(List<GenericRecord> inserts, List<RowPosition> deletes, DataFilePartitions partitions,
      int filesRead, int filesSkipped) {}

  private IntervalMerge() {}

  /**
   * @param snapshotAt for a snapshot table, the sequence of the snapshot read (microseconds)
   * @param changes the interval's changes in the change feed schema, in the order they were read
   */
  public static Result merge(Table table, String tableKey, MergeRule rule, Schema feedSchema,
      @Nullable Long snapshotAt, List<GenericRecord> changes) {
    List<String> keys = rule.keys();
    Map<String, KeyRows> byKey = new LinkedHashMap<>();
    for (GenericRecord change : changes) {
      MergeChanges.checkKeys(change, keys, tableKey);
      byKey.computeIfAbsent(MergeChanges.keyOf(change, keys), k -> new KeyRows()).changes.add(change);
    }
    Schema located = MergeChanges.locatedSchema(rule, rule.tableSchema(feedSchema));
    int read = 0;
    int skipped = 0;
    Snapshot current = table.currentSnapshot();
    List<FileScanTask> files = current == null ? List.of() : Warehouse.files(table, current.snapshotId());
    if (current != null && (!changes.isEmpty() || rule.snapshot())) {
      ChangedKeys filter = null;
      ChangedKeyValues values = null;
      Types.NestedField first = table.schema().findField(keys.get(0));
      if (!rule.snapshot()) { // a snapshot touches every key: one missing from it was deleted
        filter = new ChangedKeys.Collect(keys, ChangedKeys.DEFAULT_BITS).apply(changes);
        values = new ChangedKeyValues.Collect(keys.get(0), first.type()).apply(changes);
      }
      CommittedRead committed = new CommittedRead(table);
      for (FileScanTask task : files) {
        if (values != null && !values.mayBeIn(task.file(), first.fieldId(), first.type())) {
          skipped++;
          continue;
        }
        read++;
        try {
          ReadCommittedRows.readLive(committed, task, KeyScan.Part.WHOLE, located, keys, filter, row -> {
            String key = MergeChanges.keyOf(row, keys);
            KeyRows rows = rule.snapshot() ? byKey.computeIfAbsent(key, k -> new KeyRows()) : byKey.get(key);
            if (rows != null) { // not a changed key: a Bloom filter's false positive
              rows.committed.add(row);
            }
          });
        } catch (IOException e) {
          throw new UncheckedIOException("reading " + task.file().path() + " of " + tableKey, e);
        }
      }
    }
    KeyReplay replay = new KeyReplay(rule, feedSchema, snapshotAt, tableKey);
    List<GenericRecord> inserts = new ArrayList<>();
    List<RowPosition> deletes = new ArrayList<>();
    for (KeyRows rows : byKey.values()) {
      replay.replay(rows.committed, rows.changes, inserts::add, deletes::add);
    }
    Collections.sort(deletes);
    return new Result(inserts, deletes, DataFilePartitions.of(files), read, skipped);
  }

  private static final class KeyRows {
    final List<GenericRecord> committed = new ArrayList<>();
    final List<GenericRecord> changes = new ArrayList<>();
  }
}
