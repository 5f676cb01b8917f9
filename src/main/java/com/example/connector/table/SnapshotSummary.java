package com.example.connector.table;

import com.example.connector.catalog.Timestamps;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.util.SnapshotUtil;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What the connector keeps in a snapshot's summary, committed atomically with the snapshot's
 * files: the run that committed it and the cursors it read up to. Properties of the table keep
 * what never changes: the source table and how it is merged.
 */
public final class SnapshotSummary {
  /** What every key the connector puts in a summary starts with. */
  public static final String PREFIX = "example.";
  public static final String RUN_ID = "example.run-id";
  public static final String COMMITTED_AT = "example.committed-at";
  public static final String CURSOR_PREFIX = "example.cursor.";
  public static final String SOURCE_TABLE = "example.source-table";
  public static final String INGESTION_TYPE = "example.ingestion-type";
  public static final String MERGE = "example.merge";
  /** A table read by cursor: the source filters it is read with (JSON), which its cursors hold for. */
  public static final String FILTERS = "example.filters";

  private SnapshotSummary() {}

  /**
   * The newest of {@code from} and its ancestors that this connector committed (a run, or a
   * compaction, which carries its start's summary on: any {@value #PREFIX} key); null if none is
   * left. A snapshot another writer commits (a row deleted in Spark, a compaction of its own)
   * carries none: the table's cursors are still those of the snapshot before it, as Iceberg's
   * Flink committer finds its last checkpoint among the ancestors.
   */
  public static @Nullable Snapshot lastCommitted(Table table, @Nullable Snapshot from) {
    if (from == null) {
      return null;
    }
    for (Snapshot s : SnapshotUtil.ancestorsOf(from.snapshotId(), table::snapshot)) {
      if (byConnector(s)) {
        return s;
      }
    }
    return null;
  }

  /** Whether the connector committed {@code snapshot}: its summary holds a {@value #PREFIX} key. */
  public static boolean byConnector(Snapshot snapshot) {
    return snapshot.summary().keySet().stream().anyMatch(k -> k.startsWith(PREFIX));
  }

  /** The cursors by feed name; empty without a snapshot. */
  public static Map<String, String> cursors(@Nullable Snapshot snapshot) {
    Map<String, String> cursors = new TreeMap<>();
    if (snapshot != null) {
      snapshot.summary().forEach((k, v) -> {
        if (k.startsWith(CURSOR_PREFIX)) {
          cursors.put(k.substring(CURSOR_PREFIX.length()), v);
        }
      });
    }
    return cursors;
  }

  /**
   * {@link #cursors} in microseconds; an unreadable one fails naming {@code table} and what to do.
   */
  public static Map<String, Long> cursorMicros(@Nullable Snapshot snapshot, String table) {
    Map<String, Long> micros = new HashMap<>();
    try {
      cursors(snapshot).forEach((feed, cursor) -> micros.put(feed, Timestamps.parseMicros(cursor)));
    } catch (RuntimeException e) {
      throw new IllegalStateException(table + ": the cursors in the summary of snapshot " + snapshot.snapshotId()
          + " are unreadable (" + e.getMessage() + "); roll the table back to an earlier snapshot, or rebuild it", e);
    }
    return micros;
  }

  public static @Nullable String runId(@Nullable Snapshot snapshot) {
    return snapshot == null ? null : snapshot.summary().get(RUN_ID);
  }

  /** Live rows: rows in data files less the rows position deletes remove (each deletes a live row once). */
  public static long liveRows(@Nullable Snapshot snapshot) {
    if (snapshot == null) {
      return 0;
    }
    return number(snapshot, "total-records") - number(snapshot, "total-position-deletes");
  }

  private static long number(Snapshot snapshot, String key) {
    String v = snapshot.summary().get(key);
    return v == null ? 0 : Long.parseLong(v);
  }
}
