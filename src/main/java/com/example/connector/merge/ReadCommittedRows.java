package com.example.connector.merge;

import com.example.connector.table.LiveRows;
import com.example.connector.table.TableSchemas;
import com.example.connector.table.TableTarget;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.CombineFns.CoCombineResult;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Reads the committed rows a merge needs from data files of the table's committed snapshot (each
 * element a few row groups of them), with the deletes already committed against it applied, each
 * with its file and position (the {@value MergeChanges#FILE} and {@value MergeChanges#POSITION}
 * columns), so that a row the merge replaces can be deleted by position.
 *
 * <p>Given the changed keys, a file whose statistics rule them all out is not opened ({@link
 * ChangedKeyValues}), and of an opened file only rows whose key the Bloom filter may hold are
 * passed on ({@link ChangedKeys}). Without them (a snapshot table: a key absent from the new
 * snapshot is a delete), every row is.
 */
final class ReadCommittedRows extends DoFn<List<FileScanTask>, GenericRecord> {
  /** The changes' keys, in the side input of the changes' summaries. */
  static final TupleTag<ChangedKeys> KEYS = new TupleTag<>("changed keys");
  /** The changes' first key column values, in the same side input. */
  static final TupleTag<ChangedKeyValues> KEY_VALUES = new TupleTag<>("changed key values");
  private final TableTarget target;
  private final String locatedSchemaJson;
  private final List<String> keys;
  private final @Nullable PCollectionView<CoCombineResult> changed;
  private final Counter filesRead;
  private final Counter filesSkipped;
  private transient Table table;
  private transient Schema located;

  /** {@code changed}: the changes' {@link #KEYS} and {@link #KEY_VALUES}; null for a snapshot table. */
  ReadCommittedRows(TableTarget target, Schema locatedSchema, List<String> keys,
      @Nullable PCollectionView<CoCombineResult> changed) {
    this.target = target;
    this.locatedSchemaJson = locatedSchema.toString();
    this.keys = List.copyOf(keys);
    this.changed = changed;
    this.filesRead = Metrics.counter(target.destination().key(), "merge_files_read");
    this.filesSkipped = Metrics.counter(target.destination().key(), "merge_files_skipped");
  }

  @Setup
  public void setup() {
    table = target.load();
    located = new Schema.Parser().parse(locatedSchemaJson);
  }

  @ProcessElement
  public void process(@Element List<FileScanTask> files, OutputReceiver<GenericRecord> out, ProcessContext context)
      throws IOException {
    CoCombineResult summaries = changed == null ? null : context.sideInput(changed);
    for (FileScanTask task : files) {
      read(task, out, summaries);
    }
  }

  private void read(FileScanTask task, OutputReceiver<GenericRecord> out, @Nullable CoCombineResult summaries)
      throws IOException {
    // A file's row groups are read apart (MergeChanges.rowGroups): each file counts once.
    List<Long> offsets = task.file().splitOffsets();
    boolean firstOfFile = task.start() <= (offsets == null || offsets.isEmpty() ? 0 : offsets.get(0));
    if (summaries != null) {
      Types.NestedField first = table.schema().findField(keys.get(0));
      if (!summaries.get(KEY_VALUES).mayBeIn(task.file(), first.fieldId(), first.type())) {
        if (firstOfFile) {
          filesSkipped.inc();
        }
        return;
      }
    }
    if (firstOfFile) {
      filesRead.inc();
    }
    readLive(table, task, located, keys, summaries == null ? null : summaries.get(KEYS), out::output);
  }

  /**
   * The rows of one committed data file that are still live (its committed deletes applied), in
   * the located schema (only its columns are decoded), each with its file and position; with
   * {@code filter}, only those whose key it may hold.
   */
  static void readLive(Table table, FileScanTask task, Schema located, List<String> keys,
      @Nullable ChangedKeys filter, Consumer<GenericRecord> out) throws IOException {
    List<Types.NestedField> columns = new ArrayList<>();
    for (Types.NestedField column : table.schema().columns()) {
      if (located.getField(column.name()) != null) {
        columns.add(column);
      }
    }
    columns.add(MetadataColumns.ROW_POSITION);
    org.apache.iceberg.Schema projection = new org.apache.iceberg.Schema(columns);
    String path = task.file().path().toString();
    // Key columns by position: a lookup by name per row was a fifth of reading a file.
    int[] keyPositions = keys.stream().mapToInt(k -> columns.indexOf(projection.findField(k))).toArray();
    List<Object> key = new ArrayList<>(keys.size());
    try (CloseableIterable<Record> live = LiveRows.read(table, task, projection)) {
      for (Record r : live) {
        // The key first, from the Iceberg row: most rows are not the run's, and go no further.
        if (filter != null) {
          key.clear();
          for (int position : keyPositions) {
            key.add(TableSchemas.avroValue(r.get(position)));
          }
          if (!filter.mightContain(key)) {
            continue;
          }
        }
        GenericRecord row = TableSchemas.toAvro(r, located);
        row.put(MergeChanges.FILE, path);
        out.accept(row);
      }
    }
  }
}
