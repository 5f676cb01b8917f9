package com.example.connector.read;

import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.ExampleClient.RecordHandler;
import com.example.connector.client.PageEnd;
import com.example.connector.client.SourceException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.checkerframework.checker.nullness.qual.Nullable;
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
 * scanned again from page 1, skipping records already emitted, by identity: the source orders a
 * group of records by identity, but promises no order within a group of tombstones (only that a
 * page is the same while nothing changes).
 *
 * <p>Pages are read as streams ({@link ExampleClient#records(String, Map, RecordHandler)}): the
 * reader holds only the group being read, converted to rows as it arrives. When a record with a
 * new cursor arrives, the group before it is complete: it is claimed and emitted there and then.
 * So memory is bounded by the largest tie group (and, inside a group larger than a page, by one
 * page of it and the identities of the group), not by the page size. A page the client delivers
 * again after a transient failure skips the groups this page already emitted. Emitted rows go to a
 * {@link Sink}, flushed before every request and before {@link #read} returns.
 *
 * <p>A reader stops before a call that starts a page under a new {@code since} when its {@code
 * pause} says so, once it made a call: every claim is kept, and its caller checkpoints there (at
 * least one call each time, so a read that pauses always advances).
 *
 * <p>One reader serves one {@code @ProcessElement} call.
 */
final class CursorGroupReader<RowT> {

  /**
   * Where emitted records go. {@link #convert} runs as each record arrives, inside its request,
   * so a record that does not fit the table fails naming the request; {@link #flush} outputs the
   * rows emitted since the last flush.
   */
  interface Sink<RowT> {
    RowT convert(ObjectNode record);

    void emit(RowT row);

    void flush();
  }

  /** Why {@link #read} returned. */
  enum Outcome {
    /** The source has no more records in the range asked for. */
    EXHAUSTED,
    /** A claim failed (the restriction ends here: its end, a split or a checkpoint), or a pause came. */
    STOPPED
  }

  /** A record of the group being read: its identity (the order inside a group) and its row. */
  private record Member<RowT>(String key, RowT row) {}

  private final PageFetcher pages;
  private final CursorFeed feed;
  private final String cursorField;
  private final String identityField;
  private final RestrictionTracker<OffsetRange, Long> tracker;
  private final Sink<RowT> sink;
  private final BooleanSupplier pause;

  private long emitted;
  private boolean called;
  private long lastClaimed = Long.MIN_VALUE;

  CursorGroupReader(
      ExampleClient client,
      CursorFeed feed,
      String cursorField,
      String identityField,
      RestrictionTracker<OffsetRange, Long> tracker,
      Sink<RowT> sink,
      Counter pages,
      BooleanSupplier pause) {
    this.pages = PageFetcher.of(client, feed, pages);
    this.pause = pause;
    this.feed = feed;
    this.cursorField = cursorField;
    this.identityField = identityField;
    this.tracker = tracker;
    this.sink = sink;
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
      long rangeEnd = tracker.currentRestriction().getTo();
      if (since + 1 >= rangeEnd) {
        // A checkpoint or split ended the range at or below where this read goes on: a call now
        // could claim nothing. Claiming the end marks the range done: a split that landed after the
        // caller's own look at the end (a window read's jump) left it unattempted, and the runner
        // would find the range not read to its end.
        claim(rangeEnd);
        return Outcome.STOPPED;
      }
      if (called && pause.getAsBoolean()) {
        return Outcome.STOPPED; // every claim kept; the reader's caller checkpoints here
      }
      called = true;
      PageGroups page = new PageGroups();
      PageEnd end = fetch(since, untilExclusive, 1, page);
      if (page.stop != null) {
        return page.stop;
      }
      if (page.held.isEmpty()) {
        return Outcome.EXHAUSTED; // an empty page
      }
      if (end.isLast()) { // its last group is complete too
        return page.completeHeld() == Outcome.STOPPED ? Outcome.STOPPED : Outcome.EXHAUSTED;
      }
      if (page.lastComplete != null) {
        since = page.lastComplete; // the open group starts again at page 1
        continue;
      }
      // The whole page is one group that continues past it.
      long cursor = page.heldCursor;
      if (!claim(cursor)) {
        return Outcome.STOPPED;
      }
      if (readSpanningGroup(since, untilExclusive, cursor, page)) {
        return Outcome.EXHAUSTED;
      }
      since = cursor;
    }
  }

  /**
   * Page 1 under a {@code since}, as it streams: each group is claimed and emitted as soon as the
   * next group's first record shows it complete; the last group seen is held until the page says
   * whether it goes on.
   */
  private final class PageGroups implements RecordHandler {
    final List<Member<RowT>> held = new ArrayList<>();
    long heldCursor;
    @Nullable ObjectNode last; // the page's last record so far
    @Nullable Long lastComplete; // the cursor of the last group emitted from this page
    @Nullable Outcome stop; // why the page was left before its end

    @Override
    public boolean record(ObjectNode record) {
      last = record;
      long cursor = cursorOf(record);
      if (lastComplete != null && cursor <= lastComplete) {
        return true; // delivered again after a restart: emitted already
      }
      if (!held.isEmpty() && cursor != heldCursor) {
        stop = completeHeld();
        if (stop != null) {
          return false;
        }
      }
      heldCursor = cursor;
      held.add(member(record));
      return true;
    }

    @Override
    public void restart() {
      held.clear();
      last = null;
    }

    /** Claims and emits the held group; the outcome that ends the read, or null to go on. */
    @Nullable
    Outcome completeHeld() {
      if (!claim(heldCursor)) {
        return Outcome.STOPPED;
      }
      held.forEach(m -> emit(m.row()));
      held.clear();
      lastComplete = heldCursor;
      return null;
    }
  }

  /**
   * Emits the claimed group {@code cursor} that fills page 1 under {@code since} ({@code first})
   * and continues on later pages. Returns true if the feed ended with it.
   */
  private boolean readSpanningGroup(long since, @Nullable Long until, long cursor, PageGroups first) {
    SpanningGroup group = new SpanningGroup(cursor);
    first.held.forEach(group::offer);
    ObjectNode lastOfCurrent = first.last;
    int pageNumber = 1; // the page number of the page lastOfCurrent ends
    while (true) {
      GroupPage next = group.page(true);
      PageEnd nextEnd = fetch(since, until, pageNumber + 1, next);
      LastRecord again = new LastRecord();
      fetch(since, until, pageNumber, again);
      GroupPage current;
      PageEnd currentEnd;
      if (again.last == null || !again.last.equals(lastOfCurrent)) {
        // Records before our position left the group, so `next` may have skipped one: rescan.
        pageNumber = 1;
        current = group.page(false);
        currentEnd = fetch(since, until, 1, current);
      } else {
        pageNumber++;
        current = next;
        currentEnd = nextEnd;
        next.held.forEach(group::offer);
      }
      if (current.ended) {
        return false; // the group ended inside this page
      }
      if (currentEnd.isLast() || current.last == null) {
        return true;
      }
      lastOfCurrent = current.last;
    }
  }

  /**
   * A group read by page number: emits each of its records once, whatever their order on the
   * pages (an order by identity let it keep only the last one emitted, and it dropped tombstones
   * that a source ordered otherwise).
   */
  private final class SpanningGroup {
    final long cursor;
    final Set<String> emittedKeys = new HashSet<>();

    SpanningGroup(long cursor) {
      this.cursor = cursor;
    }

    void offer(Member<RowT> member) {
      if (emittedKeys.add(member.key())) {
        emit(member.row());
      }
    }

    /** A page of this group: its members are offered as they arrive, or held until confirmed. */
    GroupPage page(boolean hold) {
      return new GroupPage(this, hold);
    }
  }

  /** One page of a spanning group; it stops at the first record of another cursor. */
  private final class GroupPage implements RecordHandler {
    final SpanningGroup group;
    final boolean hold;
    final List<Member<RowT>> held = new ArrayList<>();
    @Nullable ObjectNode last; // the last record of the group on this page
    boolean ended; // a record of another cursor came: the group ends on this page

    GroupPage(SpanningGroup group, boolean hold) {
      this.group = group;
      this.hold = hold;
    }

    @Override
    public boolean record(ObjectNode record) {
      if (cursorOf(record) != group.cursor) {
        ended = true;
        return false;
      }
      last = record;
      Member<RowT> member = member(record);
      if (hold) {
        held.add(member);
      } else {
        group.offer(member); // delivered again after a restart: emitted already, skipped
      }
      return true;
    }

    @Override
    public void restart() {
      held.clear();
      last = null;
    }
  }

  /** Keeps only a page's last record, to confirm that the page did not shift. */
  private static final class LastRecord implements RecordHandler {
    @Nullable ObjectNode last;

    @Override
    public boolean record(ObjectNode record) {
      last = record;
      return true;
    }

    @Override
    public void restart() {
      last = null;
    }
  }

  private Member<RowT> member(ObjectNode record) {
    RowT row = sink.convert(record); // first: it checks the identity column, too
    return new Member<>(record.path(identityField).asText(), row);
  }

  private void emit(RowT row) {
    sink.emit(row);
    emitted++;
  }

  /**
   * The cursor of the feed's first record after {@code afterMicros} (its oldest record when
   * null), or null if there is none.
   */
  @Nullable
  static Long firstCursorAfter(
      ExampleClient client, CursorFeed feed, String cursorField, @Nullable Long afterMicros) {
    return firstCursorAfter(PageFetcher.of(client, feed, null), feed.table(), cursorField, afterMicros);
  }

  @Nullable
  private static Long firstCursorAfter(
      PageFetcher pages, String table, String cursorField, @Nullable Long afterMicros) {
    Map<String, String> params =
        afterMicros == null ? Map.of() : Map.of("since", Timestamps.formatMicros(afterMicros));
    return pages.first(params, record -> cursorOf(record, table, cursorField));
  }

  /** As {@link #firstCursorAfter}, counted as a page of this read. */
  @Nullable
  Long nextCursorAfter(long afterMicros) {
    sink.flush();
    return firstCursorAfter(pages, feed.table(), cursorField, afterMicros);
  }

  /** Records emitted by this reader so far. */
  long emitted() {
    return emitted;
  }

  private PageEnd fetch(long since, @Nullable Long untilExclusive, int page, RecordHandler handler) {
    Map<String, String> params = new HashMap<>();
    params.put("since", Timestamps.formatMicros(since));
    if (untilExclusive != null) {
      params.put("until", Timestamps.formatMicros(untilExclusive - 1));
    }
    if (page > 1) {
      params.put("page", Integer.toString(page));
    }
    sink.flush(); // what was read so far leaves before the next request
    return pages.fetch(params, handler);
  }

  private long cursorOf(ObjectNode record) {
    return cursorOf(record, feed.table(), cursorField);
  }

  /** The record's cursor in microseconds; a record without a readable one breaks the contract. */
  static long cursorOf(ObjectNode record, String table, String cursorField) {
    JsonNode value = record.get(cursorField);
    if (value != null && value.isTextual()) {
      try {
        return Timestamps.parseMicros(value.asText());
      } catch (RuntimeException e) {
        // reported below
      }
    }
    throw new SourceException(
        "a record of table " + table + " has no valid cursor: column " + cursorField
            + " should be an ISO-8601 timestamp but was " + (value == null ? "missing" : value.toString()),
        200,
        null);
  }
}
