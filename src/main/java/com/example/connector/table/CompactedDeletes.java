package com.example.connector.table;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.Schema;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DeleteSchemaUtil;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.StructLikeMap;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A run's position deletes moved onto the files a compaction wrote in place of those they name.
 * A run deletes the committed rows its merge replaces by their file and position in the snapshot it
 * planned from; a compaction committed since (only {@code replace} snapshots: no row changed) wrote
 * those rows again into other files, and a delete of the old position would delete nothing. Each
 * such row is read back from its old file (still there: the run's base snapshot holds it) and found,
 * by its values, among the live rows of the files the compactions added; the delete files that
 * named a replaced file are then written again, naming where the rows are now. A key's rows are
 * unique in a kept table (one row per key, or per key and start), and equal rows are
 * interchangeable, so matching values deletes the same rows. This reads the replaced files a run
 * deleted from and every compacted file: a cost paid only by a run a compaction overlapped.
 */
final class CompactedDeletes {
  private CompactedDeletes() {}

  /**
   * {@code files} (a run's files of one table, planned from snapshot {@code base}) with their
   * deletes naming the table's current files, or null if a deleted row is not in them (then the
   * snapshots since were not only faithful compactions, and the run must read again).
   */
  static @Nullable List<WrittenFile> onto(Table table, long base, String tableKey, String runId,
      List<WrittenFile> files) {
    List<FileScanTask> now = Warehouse.files(table, table.currentSnapshot().snapshotId());
    Set<String> current = paths(now);
    List<WrittenFile> kept = new ArrayList<>(); // data files, and delete files naming only files still there
    List<RowPosition> positions = new ArrayList<>();
    Map<String, Set<Long>> gone = new HashMap<>();
    for (WrittenFile f : files) {
      if (f.isData() || current.containsAll(f.referencedDataFiles())) {
        kept.add(f);
        continue;
      }
      for (RowPosition p : positions(table, f)) {
        if (current.contains(p.file())) {
          positions.add(p);
        } else {
          gone.computeIfAbsent(p.file(), k -> new HashSet<>()).add(p.position());
        }
      }
    }
    List<FileScanTask> planned = Warehouse.files(table, base);
    Set<String> before = paths(planned);
    StructLikeMap<Integer> deleted = StructLikeMap.create(table.schema().asStruct());
    for (FileScanTask task : planned) {
      Set<Long> at = gone.get(task.file().path().toString());
      if (at != null) {
        for (Record row : live(table, task, r -> at.contains((Long) r.get(positionOf(table))))) {
          StructLike values = valuesOf(table, row);
          deleted.put(values, deleted.getOrDefault(values, 0) + 1);
        }
      }
    }
    if (deleted.values().stream().mapToInt(Integer::intValue).sum()
        != gone.values().stream().mapToInt(Set::size).sum()) {
      return null;
    }
    for (FileScanTask task : now) {
      String path = task.file().path().toString();
      if (!deleted.isEmpty() && !before.contains(path)) {
        for (Record row : live(table, task, r -> deleted.containsKey(valuesOf(table, r)))) {
          StructLike values = valuesOf(table, row);
          Integer left = deleted.get(values);
          if (left != null) {
            if (left == 1) {
              deleted.remove(values);
            } else {
              deleted.put(values, left - 1);
            }
            positions.add(new RowPosition(path, (Long) row.get(positionOf(table))));
          }
        }
      }
    }
    if (!deleted.isEmpty()) {
      return null;
    }
    Collections.sort(positions);
    List<WrittenFile> moved = new ArrayList<>(kept);
    moved.addAll(TableFiles.writeDeletes(table, tableKey, runId, positions, DataFilePartitions.of(now)));
    return moved;
  }

  private static Set<String> paths(List<FileScanTask> tasks) {
    Set<String> paths = new HashSet<>();
    tasks.forEach(t -> paths.add(t.file().path().toString()));
    return paths;
  }

  /** The rows a position delete file names. */
  private static List<RowPosition> positions(Table table, WrittenFile deletes) {
    Schema schema = DeleteSchemaUtil.pathPosSchema();
    List<RowPosition> positions = new ArrayList<>();
    try (CloseableIterable<Record> rows = Parquet.read(table.io().newInputFile(deletes.file().path().toString()))
        .project(schema)
        .createReaderFunc(fileSchema -> GenericParquetReaders.buildReader(schema, fileSchema))
        .build()) {
      rows.forEach(r -> positions.add(new RowPosition(r.get(0).toString(), (Long) r.get(1))));
    } catch (IOException e) {
      throw new UncheckedIOException("reading the deletes of " + deletes.table(), e);
    }
    return positions;
  }

  /** The live rows of {@code task} that pass {@code first}, every column of the table and then the position. */
  private static List<Record> live(Table table, FileScanTask task, Predicate<Record> first) {
    List<Types.NestedField> columns = new ArrayList<>(table.schema().columns());
    columns.add(MetadataColumns.ROW_POSITION);
    List<Record> rows = new ArrayList<>();
    try (CloseableIterable<Record> live = LiveRows.read(new CommittedRead(table), task, new Schema(columns), first)) {
      live.forEach(r -> rows.add(r.copy()));
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + task.file().path(), e);
    }
    return rows;
  }

  private static int positionOf(Table table) {
    return table.schema().columns().size();
  }

  /** The row's values without its position, as Iceberg compares them (a timestamp as microseconds). */
  private static StructLike valuesOf(Table table, Record row) {
    Record values = GenericRecord.create(table.schema());
    for (int i = 0; i < positionOf(table); i++) {
      values.set(i, row.get(i));
    }
    return new InternalRecordWrapper(table.schema().asStruct()).wrap(values);
  }
}
