package com.example.connector.merge;

import com.example.connector.ParallelCalls;
import com.example.connector.table.CommittedRead;
import com.example.connector.table.KeyScan;
import com.example.connector.table.LiveRows;
import com.example.connector.table.TableSchemas;
import com.example.connector.table.TableTarget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
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
 * element a group of their row groups, {@link MergeChanges#readGroups}), with the deletes already
 * committed against it applied, each with its file and position (the {@value MergeChanges#FILE}
 * and {@value MergeChanges#POSITION} columns), so that a row the merge replaces can be deleted by
 * position.
 *
 * <p>Given the changed keys, a file whose statistics rule them all out is not opened ({@link
 * ChangedKeyValues}), and of an opened file only rows whose key the Bloom filter may hold are
 * passed on ({@link ChangedKeys}). Without them (a snapshot table: a key absent from the new
 * snapshot is a delete), every row is.
 *
 * <p>An element's row groups are read side by side, one thread each up to the worker's cores
 * (largest first, so that the threads end together; a large one in parts, {@link #parts}), so that
 * a worker given a group uses all its cores whatever the runner's placement and the table's files.
 * The threads share the element's committed deletes ({@link CommittedRead}), read once. Rows leave
 * the threads in batches through a small queue and the processing thread outputs them (Beam allows
 * output on that thread only; {@link ParallelCalls#handOver}, as a read's lanes do); a thread waits
 * when the queue is full. A thread that fails stops the others, and the element fails with its
 * error.
 */
final class ReadCommittedRows extends DoFn<List<FileScanTask>, GenericRecord> {
  /** The changes' keys, in the side input of the changes' summaries. */
  static final TupleTag<ChangedKeys> KEYS = new TupleTag<>("changed keys");
  /** The changes' first key column values, in the same side input. */
  static final TupleTag<ChangedKeyValues> KEY_VALUES = new TupleTag<>("changed key values");
  /** Rows a thread hands to the processing thread at once. */
  private static final int BATCH_ROWS = 256;
  /** The most parts a row group is cut into: a part is at least one page of its key column. */
  private static final int MAX_PARTS = 16;
  private final TableTarget target;
  private final String locatedSchemaJson;
  private final List<String> keys;
  private final @Nullable PCollectionView<CoCombineResult> changed;
  private final Counter filesRead;
  private final Counter filesSkipped;
  private transient Table table;
  private transient Schema located;
  private transient ParallelCalls threads;

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
    threads = new ParallelCalls("committed rows " + target.destination().key());
  }

  @Teardown
  public void teardown() {
    if (threads != null) {
      threads.close();
    }
  }

  @ProcessElement
  public void process(@Element List<FileScanTask> rowGroups, OutputReceiver<GenericRecord> out,
      ProcessContext context) {
    CoCombineResult summaries = changed == null ? null : context.sideInput(changed);
    int cores = Runtime.getRuntime().availableProcessors();
    List<PartOf> parts = parts(rowGroups, cores, summaries != null);
    CommittedRead committed = new CommittedRead(table);
    AtomicInteger next = new AtomicInteger();
    List<Consumer<Consumer<List<GenericRecord>>>> readers = new ArrayList<>();
    for (int i = Math.min(parts.size(), cores); i > 0; i--) {
      readers.add(batches -> readShare(committed, parts, next, summaries, batches));
    }
    threads.handOver(readers, 2 * readers.size(), (batch, waiting) -> batch.forEach(out::output));
  }

  /** A part of a committed row group, as one thread reads it. */
  record PartOf(FileScanTask rowGroup, KeyScan.Part part) {
    long length() {
      return rowGroup.length() / part.count();
    }
  }

  /**
   * The parts an element's row groups are read in, largest first (so that the threads end
   * together): a row group larger than a thread's share of the element is cut into parts of at most
   * half a share, so that a table of a few large row groups keeps every core busy (a million users
   * are one or two row groups after Flink's first run, one after compaction, and one thread read
   * each while the others waited). A row group within a share is read whole: a part costs a little
   * more per row (its reader follows its row ranges). Only a read through the changed keys' filter
   * ({@code filtered}) is cut: {@link KeyScan} reads parts, Iceberg's reader reads row groups whole.
   */
  static List<PartOf> parts(List<FileScanTask> rowGroups, int threads, boolean filtered) {
    long bytes = Math.max(1, rowGroups.stream().mapToLong(FileScanTask::length).sum());
    List<PartOf> parts = new ArrayList<>();
    for (FileScanTask rowGroup : rowGroups) {
      // larger than a share: as many parts as half shares it holds, rounded up
      long halfShares = (rowGroup.length() * 2 * threads + bytes - 1) / bytes;
      int count = filtered && rowGroup.length() * threads > bytes
          ? (int) Math.min(MAX_PARTS, halfShares) : 1;
      for (int i = 0; i < count; i++) {
        parts.add(new PartOf(rowGroup, new KeyScan.Part(i, count)));
      }
    }
    parts.sort(Comparator.comparingLong(PartOf::length).reversed());
    return parts;
  }

  /** One thread's share: the next unread part until none is left. */
  private void readShare(CommittedRead committed, List<PartOf> parts, AtomicInteger next,
      @Nullable CoCombineResult summaries, Consumer<List<GenericRecord>> batches) {
    List<GenericRecord> batch = new ArrayList<>(BATCH_ROWS);
    for (int i = next.getAndIncrement(); i < parts.size(); i = next.getAndIncrement()) {
      try {
        read(committed, parts.get(i), summaries, row -> {
          batch.add(row);
          if (batch.size() == BATCH_ROWS) {
            batches.accept(List.copyOf(batch));
            batch.clear();
          }
        });
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    if (!batch.isEmpty()) {
      batches.accept(List.copyOf(batch));
    }
  }

  private void read(CommittedRead committed, PartOf part, @Nullable CoCombineResult summaries,
      Consumer<GenericRecord> out) throws IOException {
    FileScanTask task = part.rowGroup();
    // A file's row groups and their parts are read apart (MergeChanges.rowGroups): each file counts once.
    List<Long> offsets = task.file().splitOffsets();
    boolean firstOfFile = part.part().index() == 0
        && task.start() <= (offsets == null || offsets.isEmpty() ? 0 : offsets.get(0));
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
    readLive(committed, task, part.part(), located, keys, summaries == null ? null : summaries.get(KEYS), out);
  }

  /**
   * The rows of one committed data file that are still live (its committed deletes applied), in
   * the located schema (only its columns are decoded), each with its file and position; with
   * {@code filter}, only those whose key it may hold, tested before the deletes are (most rows are
   * not the run's, and go no further): column by column ({@link KeyScan}) where the file allows,
   * so that the rows the filter drops are never assembled. Iceberg's reader, which reads a task
   * whole, reads it in its first {@code part}.
   */
  static void readLive(CommittedRead committed, FileScanTask task, KeyScan.Part part, Schema located,
      List<String> keys, @Nullable ChangedKeys filter, Consumer<GenericRecord> out) throws IOException {
    String path = task.file().path().toString();
    Consumer<GenericRecord> locatedOut = row -> {
      row.put(MergeChanges.FILE, path);
      out.accept(row);
    };
    if (filter != null && KeyScan.read(committed, task, part, located, keys, filter::mightContain, locatedOut)) {
      return;
    }
    if (part.index() > 0) {
      return; // Iceberg's reader below takes the task whole, in its first part
    }
    Table table = committed.table();
    List<Types.NestedField> columns = new ArrayList<>();
    for (Types.NestedField column : table.schema().columns()) {
      if (located.getField(column.name()) != null) {
        columns.add(column);
      }
    }
    columns.add(MetadataColumns.ROW_POSITION);
    org.apache.iceberg.Schema projection = new org.apache.iceberg.Schema(columns);
    // Key columns by position: a lookup by name per row was a fifth of reading a file.
    int[] keyPositions = keys.stream().mapToInt(k -> columns.indexOf(projection.findField(k))).toArray();
    List<Object> key = new ArrayList<>(keys.size());
    Predicate<Record> mayBeChanged = filter == null ? r -> true : r -> {
      key.clear();
      for (int position : keyPositions) {
        key.add(TableSchemas.avroValue(r.get(position)));
      }
      return filter.mightContain(key);
    };
    try (CloseableIterable<Record> live = LiveRows.read(committed, task, projection, mayBeChanged)) {
      for (Record r : live) {
        locatedOut.accept(TableSchemas.toAvro(r, located));
      }
    }
  }
}
