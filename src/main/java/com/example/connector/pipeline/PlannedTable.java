package com.example.connector.pipeline;

import com.example.connector.catalog.TableDescriptor;
import com.example.connector.merge.MergeRule;
import com.example.connector.read.CursorFeed;
import com.example.connector.read.FeedBatch;
import com.example.connector.read.ReadContext;
import com.example.connector.read.SnapshotRead;
import com.example.connector.table.Destination;
import com.example.connector.table.TableCommit;
import com.example.connector.table.TableTarget;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.types.Type;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One table of a run, fully resolved before anything is read: where it lands, how it is read
 * (a snapshot, or one or two cursor feeds), how it is merged, and what its commit will store.
 *
 * @param committedFiles the data files of the table's committed snapshot, which the merge reads
 *     (none for an append table)
 * @param firstKeyType the Iceberg type of the first primary key column (null for an append table)
 * @param changeFeedCommit an SCD table's change feed's commit, or null
 * @param changeFeedFrom per feed, the cursor below which the change feed already holds the rows
 *     this run reads (after a run that committed its change feed and not its table); empty when
 *     the two agree
 * @param snapshotAt a snapshot table's time, which its rows and the versions they open or close
 *     carry (committed as its cursor {@value FeedBatch#SNAPSHOT}): the run's cap, or just after the
 *     table's last snapshot if the source's clock went back below it; null for a table read by cursor
 */
public record PlannedTable(
    Destination destination,
    TableTarget target,
    ReadContext context,
    MergeRule merge,
    @Nullable SnapshotRead snapshot,
    List<CursorFeed> feeds,
    List<FileScanTask> committedFiles,
    @Nullable Type firstKeyType,
    TableCommit commit,
    @Nullable TableCommit changeFeedCommit,
    Map<String, Long> changeFeedFrom,
    @Nullable Long snapshotAt) {

  public PlannedTable {
    feeds = List.copyOf(feeds);
    committedFiles = List.copyOf(committedFiles);
    changeFeedFrom = Map.copyOf(changeFeedFrom);
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
