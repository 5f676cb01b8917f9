package com.example.connector.read;

import com.example.connector.catalog.TableDescriptor;
import com.example.connector.client.ExampleClient.RecordHandler;
import com.example.connector.client.PageEnd;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.io.range.ByteKey;
import org.apache.beam.sdk.io.range.ByteKeyRange;
import org.apache.beam.sdk.transforms.DoFn.BoundedPerElement;
import org.apache.beam.sdk.transforms.splittabledofn.ByteKeyRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker.HasProgress;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;

/**
 * Reads a whole table without a cursor ({@code products}) as a snapshot, page by page, such that
 * every row that exists throughout the read is read, exactly once, while rows are inserted.
 *
 * <p><b>Restriction.</b> A {@link KeyRange}: a {@link ByteKeyRange} of primary keys, and a page
 * to start looking for them from; the initial restriction is every key, from page 1. Page numbers
 * alone are no coordinate: an insert moves every later row one place on, across page boundaries.
 * A key is encoded as its UTF-16BE bytes ({@link #keyOf}), whose unsigned byte order is Java's
 * {@code String.compareTo} order, the order the simulated source sorts by.
 *
 * <p><b>Splitting.</b> A logarithmic probe finds the page count {@code n} ({@link PageSearch}:
 * about {@code 1 + log8 n} rounds of calls made side by side), and the initial range is cut at the
 * first keys of up to {@value #INITIAL_SPLITS} - 1 evenly spaced pages (one more round; at least
 * {@value #MIN_PAGES_PER_SPLIT} pages per range) into ranges read in parallel with Beam's {@link
 * ByteKeyRangeTracker} (in a {@link PageKeysTracker}), which runners may split further by
 * interpolating keys. These probes read only a page's first record. A reader of {@code [start,
 * end)} starts at the last page whose first key is at most {@code start}, searched for after the
 * range's page (doubling the step, then bisection: one call when the range's page is the one, as
 * for the initial ranges and checkpoints; none for a range from the first key), reads pages in
 * order, skips rows below {@code start} and keys it already claimed (moved onto the next page by
 * inserts, or delivered again when the client re-requests a page that a transient failure cut),
 * claims the other keys in chunks of up to {@value SourceReadFn#CHUNK_ROWS} consecutive keys of a
 * page before outputting those below {@code end}, and stops at the first key at or past {@code
 * end} (reading no more of its page) or after the last page.
 *
 * <p><b>Memory.</b> Pages are read as streams ({@link
 * com.example.connector.client.ExampleClient#records(String, Map, RecordHandler)}), each record
 * converted to its row inside its request (so a record that does not fit the table fails naming
 * the request): a reader holds one chunk of rows, whatever the page size.
 *
 * <p><b>What is proven, and under which contract.</b> Assume, as source-api.md states, that pages
 * list the table sorted by primary key, and that its rows are only inserted: products have no
 * DELETE, and a POST inserts (409 for an existing key), so no row ever leaves the table or a
 * filter's selection. Then the rank of a row {@code r} (how many rows sort before it) never
 * decreases, and the first key of a given page never increases: a range's page keeps starting at
 * or before the range's start. The reader's first page {@code p} has a first key at most {@code
 * start <= r} when the reader reads it (checked; or {@code p} is page 1), so {@code r}'s rank is
 * at least {@code (p - 1) * size} from then on. If {@code r} is not on a page when the reader reads it, its rank
 * is past that page, hence past the start of the next one: by induction, every key read is below
 * {@code r}, so the reader can neither stop at a key {@code >= end > r} nor see the last page. A
 * page delivered again after a transient failure is one more read of that page, so the induction
 * covers it. Each chunk claims its keys from its first to its last, and {@code r} between them
 * would have been on the page between them, so in the chunk. So each range's reader outputs every
 * row of its range that exists throughout; the ranges, and every split of them, partition the
 * keys, and a reader claims and outputs strictly increasing keys, so each such row is output
 * exactly once (a run needs no de-duplication). Rows inserted during the read may or may not be
 * read. Checked, failing the read (and the run with it) rather than let the merge take unseen
 * rows as deleted: every record has a string key, keys strictly ascend on every page, and a
 * range's page still starts at or before the range's start (rows removed or moved back before it
 * would break that). Not detectable, so outside the proof: removals elsewhere, and a source whose
 * key order differs from {@code String.compareTo} only across page boundaries (keys mixing
 * supplementary characters with U+E000..U+FFFF, where code point and UTF-16 orders differ).
 *
 * <p><b>Checkpointing.</b> A position is the keys of a chunk: a runner may split or checkpoint
 * after any chunk; the residual (from the key after the chunk, or from an interpolated key) is
 * read the same way, searched for after the page of the last claim. A chunk is at most {@value
 * SourceReadFn#CHUNK_ROWS} rows, so no batch option applies.
 *
 * <p><b>Size and watermark.</b> Beam's default size, from the tracker's progress through the key
 * bytes: rough, it only balances work. The read is bounded; it emits no watermark of its own.
 */
@BoundedPerElement
public class ReadSnapshotPagesFn extends SourceReadFn<SnapshotRead> {
  static final int INITIAL_SPLITS = 8;
  /** A split costs about three calls (its boundary, its first page again, a probe): keep it small. */
  static final int MIN_PAGES_PER_SPLIT = 16;

  private final String keyField;

  public ReadSnapshotPagesFn(ReadContext context) {
    super(context);
    this.keyField = keyField(context.table());
  }

  @GetInitialRestriction
  public KeyRange initialRestriction() {
    return new KeyRange(ByteKeyRange.ALL_KEYS, 1);
  }

  @GetRestrictionCoder
  public Coder<KeyRange> restrictionCoder() {
    return SerializableCoder.of(KeyRange.class);
  }

  @SplitRestriction
  public void splitRestriction(
      @Element SnapshotRead read, @Restriction KeyRange range, OutputReceiver<KeyRange> out) {
    ByteKey from = range.keys().getStartKey();
    long fromPage = range.fromPage();
    for (Boundary boundary : boundaries(read)) {
      ByteKey key = boundary.key();
      if (key.compareTo(from) > 0 && range.keys().containsKey(key)) {
        out.output(new KeyRange(ByteKeyRange.of(from, key), fromPage));
        from = key;
        fromPage = boundary.page();
      }
    }
    out.output(new KeyRange(ByteKeyRange.of(from, range.keys().getEndKey()), fromPage));
  }

  @NewTracker
  public PageKeysTracker newTracker(@Restriction KeyRange range) {
    return new PageKeysTracker(range);
  }

  @ProcessElement
  public void process(
      @Element SnapshotRead read,
      RestrictionTracker<KeyRange, PageKeys> tracker,
      OutputReceiver<List<GenericRecord>> out) {
    new RangeReader(read, tracker, rows(out, "snapshot", CHUNK_ROWS)).read();
  }

  /**
   * The reader's first page: the last whose first key is at most the range's start, searched for
   * after the range's page (whose first key {@link PageRows} checks as it reads it). A range from
   * the first key starts at its page, 1: no key is at or before the empty key.
   */
  private long firstPage(SnapshotRead read, KeyRange range) {
    ByteKey start = range.keys().getStartKey();
    return start.isEmpty() ? range.fromPage() : lastPage(read, range.fromPage(), key -> key.compareTo(start) <= 0);
  }

  /** Evenly spaced pages, by their first keys: where to cut the table into ranges of similar size. */
  private List<Boundary> boundaries(SnapshotRead read) {
    long pages = lastPage(read, 1, key -> true);
    List<Long> cutPages = PageSearch.cutPages(pages, INITIAL_SPLITS, MIN_PAGES_PER_SPLIT);
    List<ByteKey> keys = parallel.map(cutPages, page -> firstKey(read, page)); // one round of calls
    List<Boundary> boundaries = new ArrayList<>();
    for (int i = 0; i < cutPages.size(); i++) {
      if (keys.get(i) != null) {
        boundaries.add(new Boundary(cutPages.get(i), keys.get(i)));
      }
    }
    return boundaries;
  }

  /**
   * The last page from {@code from} (taken to hold, unread) whose first key {@code holds} (true
   * for a prefix of the pages from there; an empty page never does), by {@link PageSearch}.
   */
  private long lastPage(SnapshotRead read, long from, Predicate<ByteKey> holds) {
    return PageSearch.lastHolding(from, page -> {
      ByteKey key = firstKey(read, page);
      return key != null && holds.test(key);
    }, parallel);
  }

  /** The first key of page {@code number}, or null if it is empty; the rest is not downloaded. */
  @Nullable
  private ByteKey firstKey(SnapshotRead read, long number) {
    return PageFetcher.of(client, read, pages)
        .first(Map.of("page", Long.toString(number)), record -> keyOf(read, number, record));
  }

  private PageEnd fetch(SnapshotRead read, long number, RecordHandler handler) {
    return PageFetcher.of(client, read, pages).fetch(Map.of("page", Long.toString(number)), handler);
  }

  /** One {@code @ProcessElement} call: the range's pages in order, each read as a stream. */
  private final class RangeReader {
    private final SnapshotRead read;
    private final RestrictionTracker<KeyRange, PageKeys> tracker;
    private final Rows rows;
    private final ByteKey start;
    @Nullable private ByteKey claimed; // the last key claimed: a page may repeat keys that inserts moved on

    RangeReader(SnapshotRead read, RestrictionTracker<KeyRange, PageKeys> tracker, Rows rows) {
      this.read = read;
      this.tracker = tracker;
      this.rows = rows;
      this.start = tracker.currentRestriction().keys().getStartKey();
    }

    void read() {
      long first = firstPage(read, tracker.currentRestriction());
      for (long number = first; ; number++) {
        PageRows page = new PageRows(number, number == first && first > 1);
        PageEnd end = fetch(read, number, page);
        if (!page.finish()) {
          return; // the range ends on this page
        }
        if (end.isLast() || page.empty()) {
          tracker.tryClaim(PageKeys.REST); // no row after this page: the range is done
          return;
        }
      }
    }

    /**
     * One page as it streams: checks its keys, converts its fresh rows, and claims and outputs
     * them a chunk at a time. Delivered again from its first record, it skips the chunks claimed.
     */
    private final class PageRows implements RecordHandler {
      private final long number;
      private final boolean mustStartAtOrBeforeStart; // the reader's first page, past page 1
      private final List<KeyedRow> chunk = new ArrayList<>(); // fresh rows, not yet claimed
      @Nullable private ByteKey previous; // the last key of this delivery
      private boolean ended; // the range ended on this page

      PageRows(long number, boolean mustStartAtOrBeforeStart) {
        this.number = number;
        this.mustStartAtOrBeforeStart = mustStartAtOrBeforeStart;
      }

      @Override
      public boolean record(ObjectNode record) {
        ByteKey key = keyOf(read, number, record);
        checkOrder(key);
        previous = key;
        if (key.compareTo(start) < 0 || (claimed != null && key.compareTo(claimed) <= 0)) {
          return true; // before the range, or claimed already
        }
        chunk.add(new KeyedRow(key, rows.convert(record)));
        // A key at or past the end (which only ever moves down) ends the range: the rest of the
        // page is not downloaded.
        return (chunk.size() < CHUNK_ROWS && !atOrPastEnd(key)) || claimChunk();
      }

      private boolean atOrPastEnd(ByteKey key) {
        ByteKey end = tracker.currentRestriction().keys().getEndKey();
        return !end.isEmpty() && key.compareTo(end) >= 0;
      }

      @Override
      public void restart() {
        chunk.clear();
        previous = null;
      }

      boolean empty() {
        return previous == null;
      }

      /** After the page's last record: claims the last chunk; false when the range ended here. */
      boolean finish() {
        if (ended) {
          return false;
        }
        if (empty() && mustStartAtOrBeforeStart) {
          throw movedBack();
        }
        return claimChunk();
      }

      private void checkOrder(ByteKey key) {
        if (previous == null) {
          if (mustStartAtOrBeforeStart && key.compareTo(start) > 0) {
            throw movedBack();
          }
        } else if (key.compareTo(previous) <= 0) {
          throw incomplete(read, number, "lists " + keyField + " '" + text(key) + "' after '" + text(previous) + "'");
        }
      }

      private IllegalStateException movedBack() {
        return incomplete(read, number, "no longer starts at or before " + keyField + " '" + text(start)
            + "' as it did when read: rows left the table or moved back");
      }

      /**
       * Claims the chunk's keys at once, then outputs those below the range's end (final for them
       * once claimed: a split only falls past the last key attempted); false when the range ends.
       */
      private boolean claimChunk() {
        if (chunk.isEmpty()) {
          return true;
        }
        ByteKey last = chunk.get(chunk.size() - 1).key();
        if (!tracker.tryClaim(new PageKeys(chunk.get(0).key(), last, number))) {
          ended = true; // the chunk starts at or past the range's end
          return false;
        }
        claimed = last;
        for (KeyedRow row : chunk) {
          if (!atOrPastEnd(row.key())) {
            rows.emit(row.row());
          }
        }
        rows.flush(); // one output per chunk
        chunk.clear();
        ended = atOrPastEnd(last);
        return !ended;
      }
    }
  }

  /** The record's primary key as a restriction position: UTF-16BE bytes order as String does. */
  private ByteKey keyOf(SnapshotRead read, long number, ObjectNode record) {
    JsonNode key = record.get(keyField);
    if (key == null || !key.isTextual()) {
      throw incomplete(read, number, "has a record whose " + keyField + " is not a string: " + key);
    }
    return ByteKey.copyFrom(key.textValue().getBytes(StandardCharsets.UTF_16BE));
  }

  private static String text(ByteKey key) {
    return new String(key.getBytes(), StandardCharsets.UTF_16BE);
  }

  private IllegalStateException incomplete(SnapshotRead read, long page, String what) {
    return new IllegalStateException(
        "The snapshot of '" + read.table() + "' cannot be proven complete: page " + page + " " + what
            + ". A snapshot read needs every page sorted by " + keyField + " (Java String order)"
            + " and rows only inserted, as the source API documents; the run stops rather than take"
            + " rows it did not see as deleted.");
  }

  /** The one primary key a snapshot table is sorted by (the source's, not a merge override). */
  private static String keyField(TableDescriptor table) {
    if (table.primaryKeys().size() != 1) {
      throw new IllegalArgumentException(
          "Table '" + table.name() + "' has no cursor field, so it is read as a snapshot in the"
              + " order of its primary key, but the source's metadata lists primary keys "
              + table.primaryKeys() + "; a snapshot read needs exactly one.");
    }
    return table.primaryKeys().get(0);
  }

  /** Where an initial range starts: a page and its first key. */
  private record Boundary(long page, ByteKey key) {}

  /** A row and its primary key, held until its chunk is claimed. */
  private record KeyedRow(ByteKey key, GenericRecord row) {}

  /**
   * The restriction: a range of keys, and a page whose first key was at most the range's start
   * when it was read (or page 1), where a reader of the range may start looking: inserts only
   * ever lower a page's first key.
   */
  public record KeyRange(ByteKeyRange keys, long fromPage) implements Serializable {}

  /**
   * The keys of one chunk of a page that a reader claims at once, {@code first} to {@code last},
   * and the page's number; {@link #REST} claims whatever is left of the range (no row after the
   * last page).
   */
  public record PageKeys(ByteKey first, ByteKey last, long page) {
    public static final PageKeys REST = new PageKeys(ByteKey.EMPTY, ByteKey.EMPTY, 0);
  }

  /**
   * Beam's {@link ByteKeyRangeTracker}, claiming a chunk's keys at once: it claims the chunk's
   * first key, then attempts its last, in one synchronized call. So a split, which always falls
   * after the last attempted key, never cuts a chunk being output, and the rows of one chunk make
   * one output (claiming key by key, each row would have to be output before the next claim: Beam
   * forbids output after a failed claim). When the range ends within the chunk, the claim holds its
   * keys below the end, and the range is done. A residual starts looking at the page of the last
   * claim, whose first key is below the residual's start.
   */
  public static final class PageKeysTracker extends RestrictionTracker<KeyRange, PageKeys>
      implements HasProgress {
    private final ByteKeyRangeTracker keys;
    private final long fromPage;
    private long lastPage; // of the last claim; 0: none yet

    PageKeysTracker(KeyRange range) {
      this.keys = ByteKeyRangeTracker.of(range.keys());
      this.fromPage = range.fromPage();
    }

    @Override
    public synchronized boolean tryClaim(PageKeys page) {
      if (!keys.tryClaim(page.first())) {
        return false; // past the end, or REST
      }
      lastPage = page.page();
      if (page.last().compareTo(page.first()) > 0) {
        keys.tryClaim(page.last()); // false if the range ends within the page
      }
      return true;
    }

    @Override
    public synchronized KeyRange currentRestriction() {
      return new KeyRange(keys.currentRestriction(), fromPage);
    }

    @Override
    public synchronized SplitResult<KeyRange> trySplit(double fractionOfRemainder) {
      SplitResult<ByteKeyRange> split = keys.trySplit(fractionOfRemainder);
      if (split == null) {
        return null;
      }
      return SplitResult.of(new KeyRange(split.getPrimary(), fromPage),
          new KeyRange(split.getResidual(), lastPage == 0 ? fromPage : lastPage));
    }

    @Override
    public synchronized void checkDone() {
      keys.checkDone();
    }

    @Override
    public IsBounded isBounded() {
      return IsBounded.BOUNDED;
    }

    @Override
    public synchronized Progress getProgress() {
      return keys.getProgress();
    }
  }
}
