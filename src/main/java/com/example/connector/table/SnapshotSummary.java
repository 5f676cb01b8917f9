package com.example.connector.table;

import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.Snapshot;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What the connector keeps in a snapshot's summary, committed atomically with the snapshot's
 * files: the run that committed it and the cursors it read up to. Properties of the table keep
 * what never changes: the source table and how it is merged.
 */
public final class SnapshotSummary {
  public static final String RUN_ID = "example.run-id";
  public static final String COMMITTED_AT = "example.committed-at";
  public static final String CURSOR_PREFIX = "example.cursor.";
  public static final String SOURCE_TABLE = "example.source-table";
  public static final String INGESTION_TYPE = "example.ingestion-type";
  public static final String MERGE = "example.merge";

  private SnapshotSummary() {}

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
