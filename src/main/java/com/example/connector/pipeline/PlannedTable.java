package com.example.connector.pipeline;

import com.example.connector.catalog.TableDescriptor;
import com.example.connector.merge.MergeRule;
import com.example.connector.read.CursorFeed;
import com.example.connector.read.ReadContext;
import com.example.connector.read.SnapshotRead;
import com.example.connector.sink.Destination;
import com.example.connector.sink.TableCommit;
import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One table of a run, fully resolved before anything is read: where it lands, how it is read
 * (a snapshot, or one or two cursor feeds), how it is merged, and what its commit will store.
 *
 * @param committedFiles the table's committed version that the merge reads (none when the merge
 *     does not need it)
 */
public record PlannedTable(
    Destination destination,
    ReadContext context,
    MergeRule merge,
    @Nullable SnapshotRead snapshot,
    List<CursorFeed> feeds,
    List<String> committedFiles,
    TableCommit commit) {

  public PlannedTable {
    feeds = List.copyOf(feeds);
    committedFiles = List.copyOf(committedFiles);
  }

  /**
   * Whether a run reads at most one change per key that matters: cursor feeds read each record
   * once per run, and the merge's key and order are the source's own (its primary key, its
   * cursor), under which a record read outranks its key's tombstones read with it.
   */
  public boolean oneChangePerKey() {
    TableDescriptor table = context.table();
    return snapshot == null
        && merge.keys().equals(table.primaryKeys())
        && java.util.Objects.equals(merge.sequenceBy(), table.cursorField());
  }
}
