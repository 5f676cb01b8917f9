package com.example.connector.table;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.BaseDeleteLoader;
import org.apache.iceberg.data.DeleteLoader;
import org.apache.iceberg.data.GenericDeleteFilter;

/**
 * One read of a table's committed data files, by any number of threads: the deletes committed
 * against them are each read once however many files, parts of files and threads ask for them,
 * with Iceberg's own delete loader and the cache it leaves to engines (Spark's executors keep one).
 * A merge reads a large row group in parts on several threads ({@link KeyScan.Part}), and each part
 * loaded its file's deletes again: 50-70 ms each for the delete files of three 1% runs of a
 * million-row table. Held for one read and dropped with it, so it holds no more than that read
 * would have loaded.
 */
public final class CommittedRead {
  /** A delete file's positions larger than this are read for each file that asks (Spark's executor cache limit). */
  private static final long MAX_CACHED_BYTES = 64L << 20;
  private final Table table;
  private final Map<String, Object> deleteFiles = new ConcurrentHashMap<>();

  public CommittedRead(Table table) {
    this.table = table;
  }

  public Table table() {
    return table;
  }

  /** Iceberg's delete filter of {@code task}'s file, for rows read in the {@code requested} schema. */
  GenericDeleteFilter deletes(FileScanTask task, Schema requested) {
    return new GenericDeleteFilter(table.io(), task, table.schema(), requested) {
      @Override
      protected DeleteLoader newDeleteLoader() {
        return new BaseDeleteLoader(this::loadInputFile) {
          @Override
          protected boolean canCache(long size) {
            return size <= MAX_CACHED_BYTES;
          }

          @Override
          @SuppressWarnings("unchecked")
          protected <V> V getOrLoad(String deleteFile, Supplier<V> load, long size) {
            // A delete file is immutable: its path names its content.
            return (V) deleteFiles.computeIfAbsent(deleteFile, f -> load.get());
          }
        };
      }
    };
  }
}
