package com.example.connector.read;

import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Page;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;

/**
 * Reads a cursor-ordered feed one <em>tie group</em> at a time: all records that share one cursor
 * value. Each group is claimed on the tracker at its cursor (microseconds) before any of it is
 * emitted, and only whole groups are emitted, so a checkpoint or split always falls between two
 * cursor values and the residual restriction resumes with {@code since = last claimed cursor}
 * without dropping or repeating a record that shares it.
 *
 * <p>The source pages by page number under a fixed {@code since}. Page numbers shift when a
 * record before the reader's position leaves the result (it is updated, and so moves to a newer
 * cursor, or deleted), which would make a plain page-number scan skip a record. So after every
 * page the reader moves {@code since} up to the last complete group and starts again at page 1;
 * page numbers above 1 are only used inside a single group larger than a page, and there each
 * page is confirmed by re-reading the previous one: if its last record changed, the group is
 * scanned again from page 1, skipping records already emitted (the source orders a group by its
 * identity column).
 *
 * <p>Emitted records go to a {@link Sink}, which is flushed before every request and before
 * {@link #read} returns, so what it outputs at a time is (part of) one page, never more.
 *
 * <p>One reader serves one {@code @ProcessElement} call.
 */
final class CursorGroupReader {

  /** Where emitted records go; {@link #flush} outputs those added since the last flush. */
  interface Sink {
    void add(ObjectNode record);

    void flush();
  }

  /** Why {@link #read} returned. */
  enum Outcome {
    /** The source has no more records in the range asked for. */
    EXHAUSTED,
    /** A claim failed: the restriction ends here (its end, a split or a checkpoint). */
    STOPPED,
    /** At least {@code maxRecordsPerBatch} records were emitted: time to checkpoint. */
    BATCH_FULL
  }

  private final ExampleClient client;
  private final CursorFeed feed;
  private final String cursorField;
  private final String identityField;
  private final RestrictionTracker<OffsetRange, Long> tracker;
  private final Sink sink;
  private final Counter pages;

  private long emitted;
  private long lastClaimed = Long.MIN_VALUE;

  CursorGroupReader(
      ExampleClient client,
      CursorFeed feed,
      String cursorField,
      String identityField,
      RestrictionTracker<OffsetRange, Long> tracker,
      Sink sink,
      Counter pages) {
    this.client = client;
    this.feed = feed;
    this.cursorField = cursorField;
    this.identityField = identityField;
    this.tracker = tracker;
    this.sink = sink;
    this.pages = pages;
  }

  /** The last cursor claimed by this reader, or {@code Long.MIN_VALUE}. */
  long lastClaimed() {
    return lastClaimed;
  }

  /** Claims a position with no records of its own (an empty window's end, the range's end). */
  boolean claim(long position) {
    if (position <= lastClaimed) {
      return true;
    }
    // Beam allows no output after a failed claim, so the rows held (all claimed) leave first when
    // this claim is past the restriction's end. Runners wrap the tracker in a synchronized
    // observer (RestrictionTrackers.observe) and split through it: holding its lock, no split can
    // move the end between the check and the claim.
    synchronized (tracker) {
      if (position >= tracker.currentRestriction().getTo()) {
        sink.flush();
      }
      boolean ok = tracker.tryClaim(position);
      if (ok) {
        lastClaimed = position;
      }
      return ok;
    }
  }

  /**
   * Reads records with cursor {@code >= from}, and {@code < untilExclusive} when that is given
   * (windowed reads send it as {@code until}; others stop at the first claim past the range).
   */
  Outcome read(long from, @Nullable Long untilExclusive) {
    Outcome outcome = readGroups(from, untilExclusive);
    sink.flush();
    return outcome;
  }

  private Outcome readGroups(long from, @Nullable Long untilExclusive) {
    long since = from - 1;
    while (true) {
      Page page = fetch(since, untilExclusive, 1);
      List<ObjectNode> records = page.records();
      if (records.isEmpty()) {
        return Outcome.EXHAUSTED;
      }
      long[] cursors = new long[records.size()]; // parsed once: ISO parsing is a hot spot
      for (int i = 0; i < cursors.length; i++) {
        cursors[i] = cursorOf(records.get(i));
      }
      Long lastComplete = null;
      int start = 0;
      while (start < records.size()) {
        long cursor = cursors[start];
        int end = start;
        while (end < records.size() && cursors[end] == cursor) {
          end++;
        }
        if (end == records.size() && !page.isLast()) {
          break; // the last group may go on in the next page
        }
        if (!claim(cursor)) {
          return Outcome.STOPPED;
        }
        records.subList(start, end).forEach(this::emit);
        lastComplete = cursor;
        start = end;
        if (emitted >= feed.maxRecordsPerBatch()) {
          return page.isLast() && start == records.size() ? Outcome.EXHAUSTED : Outcome.BATCH_FULL;
        }
      }
      if (page.isLast()) {
        return Outcome.EXHAUSTED;
      }
      if (lastComplete != null) {
        since = lastComplete; // the open group starts again at page 1
        continue;
      }
      // The whole page is one group that continues past it.
      long cursor = cursors[0];
      if (!claim(cursor)) {
        return Outcome.STOPPED;
      }
      if (readSpanningGroup(since, untilExclusive, cursor, page)) {
        return Outcome.EXHAUSTED;
      }
      since = cursor;
      if (emitted >= feed.maxRecordsPerBatch()) {
        return Outcome.BATCH_FULL;
      }
    }
  }

  /**
   * Emits the claimed group {@code cursor} that fills page 1 under {@code since} and continues
   * on later pages. Returns true if the feed ended with it.
   */
  private boolean readSpanningGroup(long since, @Nullable Long until, long cursor, Page first) {
    String lastKey = null;
    int pageNumber = 1; // the page number of `current`
    Page current = first;
    while (true) {
      for (ObjectNode record : current.records()) {
        if (cursorOf(record) != cursor) {
          return false; // the group ended inside this page
        }
        String key = record.path(identityField).asText();
        if (lastKey == null || key.compareTo(lastKey) > 0) {
          emit(record);
          lastKey = key;
        }
      }
      if (current.isLast() || current.records().isEmpty()) {
        return true;
      }
      ObjectNode lastOfCurrent = current.records().get(current.records().size() - 1);
      Page next = fetch(since, until, pageNumber + 1);
      Page again = fetch(since, until, pageNumber);
      List<ObjectNode> recheck = again.records();
      if (recheck.isEmpty() || !recheck.get(recheck.size() - 1).equals(lastOfCurrent)) {
        // Records before our position left the group, so `next` may have skipped one: rescan.
        pageNumber = 1;
        current = fetch(since, until, 1);
      } else {
        pageNumber++;
        current = next;
      }
    }
  }

  private void emit(ObjectNode record) {
    sink.add(record);
    emitted++;
  }

  /**
   * The cursor of the feed's first record after {@code afterMicros} (its oldest record when
   * null), or null if there is none.
   */
  @Nullable
  static Long firstCursorAfter(
      ExampleClient client, CursorFeed feed, String cursorField, @Nullable Long afterMicros) {
    Map<String, String> params =
        afterMicros == null ? Map.of() : Map.of("since", Timestamps.formatMicros(afterMicros));
    Page page = call(client, feed, params);
    return page.records().isEmpty() ? null : cursorOf(page.records().get(0), cursorField);
  }

  /** As {@link #firstCursorAfter}, counted as a page of this read. */
  @Nullable
  Long nextCursorAfter(long afterMicros) {
    sink.flush();
    pages.inc();
    return firstCursorAfter(client, feed, cursorField, afterMicros);
  }

  /** Records emitted by this reader so far. */
  long emitted() {
    return emitted;
  }

  private Page fetch(long since, @Nullable Long untilExclusive, int page) {
    Map<String, String> params = new HashMap<>();
    params.put("since", Timestamps.formatMicros(since));
    if (untilExclusive != null) {
      params.put("until", Timestamps.formatMicros(untilExclusive - 1));
    }
    if (page > 1) {
      params.put("page", Integer.toString(page));
    }
    sink.flush(); // what was read so far leaves before the next request
    pages.inc();
    return call(client, feed, params);
  }

  private static Page call(ExampleClient client, CursorFeed feed, Map<String, String> params) {
    Map<String, String> all = new HashMap<>(feed.params());
    all.putAll(params);
    return feed.tombstones()
        ? client.deletedRecords(feed.table(), all)
        : client.records(feed.table(), all);
  }

  private long cursorOf(ObjectNode record) {
    return cursorOf(record, cursorField);
  }

  private static long cursorOf(ObjectNode record, String cursorField) {
    return Timestamps.parseMicros(record.path(cursorField).asText());
  }
}
