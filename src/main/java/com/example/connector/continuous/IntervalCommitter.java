package com.example.connector.continuous;

import com.example.connector.catalog.Timestamps;
import com.example.connector.merge.IntervalMerge;
import com.example.connector.merge.MergeRule;
import com.example.connector.read.CursorFeed;
import com.example.connector.read.FeedBatch;
import com.example.connector.table.RunCommit;
import com.example.connector.table.SnapshotSummary;
import com.example.connector.table.TableCommit;
import com.example.connector.table.TableCommitter;
import com.example.connector.table.TableFiles;
import com.example.connector.table.TableTarget;
import com.example.connector.table.WrittenFile;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Commits what a continuous run read of one table since its last commit: the batches that extend
 * each feed's committed cursor without a gap, their rows written and merged as in a bounded run,
 * and the new cursors, in one Iceberg commit of the table (its change feed's first, for an SCD
 * table), through the same {@link TableCommitter}.
 *
 * <p>Exactly once, because the tables decide: each commit starts from the cursors the tables
 * hold, loaded afresh. Batches wholly below them were committed already (a commit retried after a
 * crash, a restart from an older savepoint) and are dropped; rows below a table's own cursor are
 * not written to it again (an SCD table whose change feed was committed and whose table was not).
 * Batches past a gap (an earlier span still on its way) wait for the next commit. A table whose
 * cursors went back below those of the committer's last commit (dropped, rebuilt or rolled back
 * since the savepoint the job resumed from) fails the commit, naming it: that gap never fills.
 *
 * <p>A snapshot table commits its latest snapshot, if newer than the one it holds; its snapshot's
 * time is kept as the cursor {@value FeedBatch#SNAPSHOT}.
 */
public final class IntervalCommitter {

  /**
   * @param remaining the batches to keep for a later commit
   * @param committed whether a snapshot was committed
   * @param rows the rows committed (appended, or changes merged)
   * @param cursors the table's cursors after this commit, by feed
   */
  public record Outcome(List<FeedBatch> remaining, boolean committed, long rows, Map<String, Long> cursors) {}

  private IntervalCommitter() {}

  /**
   * @param cursorOnly whether to commit batches that only move the cursors (no rows), which makes
   *     a snapshot: at a stop, and now and then so that the committed cursor tells how fresh an
   *     idle table is
   * @param reached the table's cursors at this committer's last commit ({@link Outcome#cursors}, kept
   *     in its state), empty before its first
   * @throws IllegalStateException if a feed's cursor is now below them: see {@link #checkNotBehind}
   */
  public static Outcome commit(ContinuousTable t, List<FeedBatch> batches, boolean cursorOnly, Instant now,
      Map<String, Long> reached) {
    return commit(t, batches, cursorOnly, now, reached, () -> {});
  }

  /** As {@link #commit(ContinuousTable, List, boolean, Instant, Map)}, running {@code beforeCommit} right before its commit. */
  static Outcome commit(ContinuousTable t, List<FeedBatch> batches, boolean cursorOnly, Instant now,
      Map<String, Long> reached, Runnable beforeCommit) {
    TableTarget target = t.target();
    Table table = target.load();
    Table feedTable = t.merge().appendOnly() ? null : target.changeFeed().load();
    String feedKey = target.changeFeed().destination().key();
    checkPlanned(t, t.key(), table);
    if (feedTable != null) {
      checkPlanned(t, feedKey, feedTable);
    }
    Map<String, Long> tableCursors = cursors(table, t.key());
    Map<String, Long> feedCursors = feedTable == null ? tableCursors : cursors(feedTable, feedKey);
    checkNotBehind(t, reached, tableCursors, feedCursors);
    Interval interval = t.snapshot() ? latestSnapshot(batches, tableCursors)
        : contiguous(t, batches, tableCursors, feedCursors);
    if (interval.spans().isEmpty() || (interval.rows().isEmpty() && !cursorOnly && !t.snapshot())) {
      return new Outcome(coalesce(interval.held()), false, 0, tableCursors);
    }
    Map<String, Long> after = new HashMap<>(tableCursors);
    after.putAll(interval.spans());
    // Named after the span it commits, in characters a file name may hold (its files carry it).
    String commitId = t.runId() + "-" + interval.spans().values().stream().max(Long::compare).orElseThrow();
    Schema feedSchema = t.feedSchema();
    List<WrittenFile> written = new ArrayList<>();
    List<TableCommit> commits = new ArrayList<>();
    if (feedTable == null) {
      written.addAll(TableFiles.writeData(table, t.key(), commitId, feedSchema, List.of(),
          since(interval.rows(), t.cursorField(), tableCursors)));
    } else {
      List<GenericRecord> feedRows = !t.snapshot() ? since(interval.rows(), t.cursorField(), feedCursors)
          : inFeed(interval, feedCursors) ? List.of() : interval.rows();
      written.addAll(TableFiles.writeData(feedTable, feedKey, commitId, feedSchema,
          List.of(), feedRows));
      Map<String, Long> feedAfter = new HashMap<>(feedCursors);
      interval.spans().forEach((feed, cursor) -> feedAfter.merge(feed, cursor, Math::max));
      commits.add(TableCommit.of(target.changeFeed(), feedTable.uuid().toString(), snapshotId(feedTable), feedAfter));
      written.addAll(merge(t, table, feedSchema, interval, tableCursors, commitId));
    }
    commits.add(TableCommit.of(target, table.uuid().toString(), snapshotId(table), after));
    beforeCommit.run();
    new TableCommitter(target.catalog()).commit(new RunCommit(commitId, Timestamps.format(now), commits), written);
    return new Outcome(coalesce(interval.remaining()), true, interval.rows().size(), after);
  }

  /** The merge of an SCD table: its inserts and position deletes, as files. */
  private static List<WrittenFile> merge(ContinuousTable t, Table table, Schema feedSchema, Interval interval,
      Map<String, Long> tableCursors, String commitId) {
    MergeRule rule = t.merge();
    Long snapshotAt = t.snapshot() ? interval.spans().get(FeedBatch.SNAPSHOT) : null;
    List<GenericRecord> changes = t.snapshot() ? interval.rows() : since(interval.rows(), t.cursorField(), tableCursors);
    IntervalMerge.Result merged = IntervalMerge.merge(table, t.key(), rule, feedSchema, snapshotAt, changes);
    List<WrittenFile> written = new ArrayList<>(TableFiles.writeData(table, t.key(), commitId,
        rule.tableSchema(feedSchema), rule.identifierColumns(), merged.inserts()));
    if (!merged.deletes().isEmpty()) {
      written.addAll(TableFiles.writeDeletes(table, t.key(), commitId, merged.deletes(), merged.partitions()));
    }
    return written;
  }

  /**
   * What to commit: per feed, the span from the lower of the table's and its change feed's cursors
   * that the batches cover without a gap, and the rows of those batches.
   *
   * <p>A table with two feeds (records and tombstones) commits both up to one cursor, the lower of
   * the two feeds' reach, as a bounded run commits both at its cap: each feed is read on its own,
   * so a record read just before its key's delete may arrive after the tombstone, and committed a
   * commit after it, it would bring the deleted key back. Rows at or past that cursor wait.
   *
   * @param spans per feed, the new cursor (the span's end); a feed without new coverage is absent
   * @param rows the rows below the new cursors, in feed and cursor order
   * @param held the batches to keep if nothing is committed
   * @param remaining the batches to keep after the commit: past a gap or past the new cursor
   */
  private record Interval(Map<String, Long> spans, List<GenericRecord> rows, List<FeedBatch> held,
      List<FeedBatch> remaining) {}

  private static Interval contiguous(ContinuousTable t, List<FeedBatch> batches, Map<String, Long> tableCursors,
      Map<String, Long> feedCursors) {
    List<FeedBatch> sorted = new ArrayList<>(batches);
    sorted.sort(Comparator.comparing(FeedBatch::feed).thenComparingLong(FeedBatch::fromMicros));
    Map<String, Long> reach = new HashMap<>();
    List<FeedBatch> reached = new ArrayList<>();
    List<FeedBatch> remaining = new ArrayList<>();
    for (FeedBatch batch : sorted) {
      FeedBatch b = batch;
      long at = reach.getOrDefault(b.feed(), start(t, b.feed(), tableCursors, feedCursors));
      if (b.toMicros() <= at) {
        continue; // committed already, or covered by the batches before it (one delivered twice)
      }
      if (b.fromMicros() > at) {
        remaining.add(b); // a gap: an earlier batch is still on its way
        continue;
      }
      if (b.fromMicros() < at) { // overlapping them: only what it adds
        b = new FeedBatch(b.feed(), at, b.toMicros(), since(b.rows(), t.cursorField(), Map.of(b.feed(), at)));
      }
      if (b.toMicros() > at) {
        reach.put(b.feed(), b.toMicros());
      }
      reached.add(b);
    }
    List<FeedBatch> held = new ArrayList<>(reached);
    held.addAll(remaining);
    long cut = t.feedStarts().keySet().stream()
        .mapToLong(feed -> reach.getOrDefault(feed, start(t, feed, tableCursors, feedCursors)))
        .min().orElse(Long.MAX_VALUE);
    List<GenericRecord> rows = new ArrayList<>();
    for (FeedBatch b : reached) {
      List<GenericRecord> later = new ArrayList<>();
      for (GenericRecord row : b.rows()) {
        Object cursor = row.get(t.cursorField());
        if (cursor != null && (Long) cursor >= cut) {
          later.add(row);
        } else {
          rows.add(row);
        }
      }
      if (b.toMicros() > cut) {
        remaining.add(new FeedBatch(b.feed(), Math.max(cut, b.fromMicros()), b.toMicros(), later));
      }
    }
    remaining.sort(Comparator.comparing(FeedBatch::feed).thenComparingLong(FeedBatch::fromMicros));
    Map<String, Long> spans = new HashMap<>();
    reach.forEach((feed, cursor) -> {
      long end = Math.min(cursor, cut);
      if (end > start(t, feed, tableCursors, feedCursors)) {
        spans.put(feed, end);
      }
    });
    return new Interval(spans, rows, held, remaining);
  }

  /**
   * Fails if a feed's cursor is below where this committer saw it (its state, restored with a
   * savepoint or checkpoint): the table was dropped, rebuilt or rolled back after that state was
   * taken, and the job's reads go on from above the cursor (their positions are of the same state),
   * so the rows in between would never be read and the commits, which wait for them, would stop
   * for good. A snapshot table commits each snapshot whole: it has nothing to wait for.
   */
  private static void checkNotBehind(ContinuousTable t, Map<String, Long> reached, Map<String, Long> tableCursors,
      Map<String, Long> feedCursors) {
    if (t.snapshot()) {
      return;
    }
    reached.forEach((feed, cursor) -> {
      long now = start(t, feed, tableCursors, feedCursors);
      if (now < cursor) {
        throw new IllegalStateException(t.key() + ": its cursor for " + feed + " is "
            + (tableCursors.containsKey(feed) ? Timestamps.formatMicros(now) : "none (an empty table)")
            + ", below " + Timestamps.formatMicros(cursor) + ", where this job had committed it: the table was dropped,"
            + " rebuilt or rolled back after the savepoint or checkpoint this job resumed from, whose reads go on"
            + " from above that cursor, so the rows in between would never be read. Cancel the job and start it"
            + " again without --savepointPath: it reads each table from the cursors the table holds");
      }
    });
  }

  /** Where a feed's uncommitted span starts: the lower of the two tables' cursors, or where its read began. */
  private static long start(ContinuousTable t, String feed, Map<String, Long> tableCursors,
      Map<String, Long> feedCursors) {
    long begin = t.feedStarts().getOrDefault(feed, Long.MIN_VALUE);
    return Math.min(tableCursors.getOrDefault(feed, begin), feedCursors.getOrDefault(feed, begin));
  }

  private static Interval latestSnapshot(List<FeedBatch> batches, Map<String, Long> tableCursors) {
    FeedBatch latest = batches.stream().max(Comparator.comparingLong(FeedBatch::fromMicros)).orElse(null);
    Long held = tableCursors.get(FeedBatch.SNAPSHOT);
    if (latest == null || (held != null && latest.fromMicros() <= held)) {
      return new Interval(Map.of(), List.of(), List.of(), List.of());
    }
    return new Interval(Map.of(FeedBatch.SNAPSHOT, latest.fromMicros()), latest.rows(), List.of(latest), List.of());
  }

  /**
   * Whether the change feed holds the interval's snapshot already: its commit landed and its
   * table's did not, and the runner handed the batch over again after a restore.
   */
  private static boolean inFeed(Interval snapshot, Map<String, Long> feedCursors) {
    Long fed = feedCursors.get(FeedBatch.SNAPSHOT);
    return fed != null && fed >= snapshot.spans().get(FeedBatch.SNAPSHOT);
  }

  /**
   * Fails unless {@code table} is the one the run planned: dropped and created again, it holds
   * none of the rows before where the run's reads began, which the run would claim with its cursor.
   */
  private static void checkPlanned(ContinuousTable t, String key, Table table) {
    String planned = t.tableUuids().get(key);
    String uuid = table.uuid().toString();
    if (planned != null && !planned.equals(uuid)) {
      throw new IllegalStateException("table " + key + " was dropped and created again since continuous run "
          + t.runId() + " started (table uuid " + uuid + ", was " + planned + "), so this run commits nothing to it:"
          + " stop the run and start it again, and it reads on from what the new table holds");
    }
  }

  /** The rows at or above their feed's cursor in {@code cursors}: those the table does not hold yet. */
  private static List<GenericRecord> since(List<GenericRecord> rows, String cursorField, Map<String, Long> cursors) {
    return rows.stream().filter(row -> CursorFeed.notYetIn(row, cursorField, cursors)).toList();
  }


  /** Adjacent empty batches of a feed as one, so that an idle feed's batches do not pile up between commits. */
  private static List<FeedBatch> coalesce(List<FeedBatch> batches) {
    List<FeedBatch> out = new ArrayList<>();
    for (FeedBatch b : batches) {
      FeedBatch last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && last.feed().equals(b.feed()) && last.rows().isEmpty() && b.rows().isEmpty()
          && last.toMicros() == b.fromMicros()) {
        out.set(out.size() - 1, new FeedBatch(b.feed(), last.fromMicros(), b.toMicros(), List.of()));
      } else {
        out.add(b);
      }
    }
    return out;
  }

  /** The table's committed cursors: those of the newest snapshot the connector committed on it. */
  private static Map<String, Long> cursors(Table table, String key) {
    return SnapshotSummary.cursorMicros(SnapshotSummary.lastCommitted(table, table.currentSnapshot()), key);
  }

  private static @Nullable Long snapshotId(Table table) {
    Snapshot s = table.currentSnapshot();
    return s == null ? null : s.snapshotId();
  }
}
