package com.example.connector.table;

import com.example.connector.catalog.Timestamps;
import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One table's part of a run's commit, planned before the run reads.
 *
 * @param tableUuid the table's UUID when the run planned (null: not created yet, a dry run); a
 *     table dropped and created again under its name has another, and the commit requires it
 * @param baseSnapshotId the table's snapshot the run planned from (null: the table had none);
 *     the commit requires it to be still current (optimistic concurrency)
 * @param cursors per feed ({@code records}, {@code deleted_records}), an ISO-8601 instant: every
 *     record whose cursor is below it has been read; stored in the snapshot summary as
 *     {@code example.cursor.<feed>}
 */
public record TableCommit(TableTarget target, @Nullable String tableUuid, @Nullable Long baseSnapshotId,
    Map<String, String> cursors)
    implements Serializable {

  public TableCommit {
    cursors = new TreeMap<>(cursors);
  }

  /** With cursors in microseconds, stored in their ISO-8601 form. */
  public static TableCommit of(TableTarget target, @Nullable String tableUuid, @Nullable Long baseSnapshotId,
      Map<String, Long> cursorMicros) {
    Map<String, String> cursors = new TreeMap<>();
    cursorMicros.forEach((feed, micros) -> cursors.put(feed, Timestamps.formatMicros(micros)));
    return new TableCommit(target, tableUuid, baseSnapshotId, cursors);
  }
}
