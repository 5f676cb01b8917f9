package com.example.connector.read;

import com.example.connector.client.ExampleClient.RecordHandler;
import com.example.connector.client.PageEnd;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.range.ByteKey;
import org.apache.beam.sdk.io.range.ByteKeyRange;
import org.apache.beam.sdk.transforms.DoFn.BoundedPerElement;
import org.apache.beam.sdk.transforms.splittabledofn.ByteKeyRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker.HasProgress;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Reads a whole table without a cursor ({@code products}) as a snapshot, page by page, such that
 * every row that exists throughout the read is read, exactly once, while rows are inserted.
 *
 * <p><b>Restriction.</b> A {@link LaneSet} of {@link KeyRange}s, each a {@link ByteKeyRange} of
 * primary keys and a page to start looking for them from, read side by side, one lane each
 * ({@link Lanes}), so that a worker keeps calls in flight on every range whatever the runner's
 * thread count; each range is tracked by Beam's {@link ByteKeyRangeTracker} (in a {@link
 * PageKeysTracker}) within a {@link LaneSetTracker}. Page numbers alone are no coordinate: an
 * insert moves every later row one place on, across page boundaries. A key is encoded as its
 * UTF-16BE bytes ({@link SnapshotPages#keyOf}), whose unsigned byte order is Java's {@code
 * String.compareTo} order, the order the simulated source sorts by.
 *
 * <p><b>Splitting.</b> {@link SplitSnapshotFn} cuts every key into ranges of similar page counts
 * ({@link SnapshotPages#ranges}: a logarithmic probe for the page count, about {@code 1 + log8 n}
 * rounds of calls made side by side, then the first keys of evenly spaced pages, one more round),
 * and deals them into groups that a reshuffle spreads over workers, as the cursor feeds are.
 * Runners may split a group further: ranges not yet started, or the one with the most left, by
 * interpolating keys. These probes read only a page's first record. A reader of {@code [start,
 * end)} starts on its range's page, whose first key was at most {@code start} (a range cut at
 * that page's first key, or resumed after its last claim); for a runner's split at an
 * interpolated key, at the last page whose first key is at most {@code start}, searched for after
 * the range's page (doubling the step, then bisection). It reads pages in order, skips rows below
 * {@code start} and keys it already claimed (moved onto the next page by inserts, or delivered
 * again when the client re-requests a page that a transient failure cut), claims the other keys
 * in chunks of up to {@value SourceReadFn#CHUNK_ROWS} consecutive keys of a page before outputting
 * those below {@code end}, and stops at the first key at or past {@code end} (reading no more of
 * its page) or after the last page. When two pages in a row hold no key past its position (its
 * start, or its last claim), rows inserted before it have moved it on since its page was read,
 * maybe by many pages (a residual that waited while a busy table grew): it searches on from there
 * for the last page that starts at or before the position, in 2 to 5 rounds of probes, where
 * walking would cost a round a page while more rows land (in calls, the search costs more than a
 * walk of under about 20 pages). Only the ranges are read
 * concurrently: the pages of one range are read one after another, which the proof below needs.
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
 * decreases, and the first key of a given page never increases: a range's page keeps starting at or
 * before the range's start. The reader's first page {@code p} has a first key at most {@code start
 * <= r} when the reader reads it (checked; or {@code p} is page 1), so {@code r}'s rank is at least
 * {@code (p - 1) * size} from then on. The same holds for a page {@code f} the reader searched for:
 * its first key was at most the reader's position, below {@code r}, when probed, and still is when
 * read (checked). If {@code r} is not on a page when the reader reads it, its rank is past that
 * page, hence past the start of the next one (or below a page searched for, as above): by
 * induction, every key read is below {@code r}, so the reader can neither stop at a key {@code >=
 * end > r} nor see the last page. A page delivered again after a transient failure is one more read
 * of that page, so the induction covers it. Each chunk claims its keys from its first to its last,
 * and {@code r} between them would have been on the page between them, so in the chunk. So each
 * range's reader outputs every row of its range that exists throughout; the ranges, and every split
 * of them, partition the keys, and a reader claims and outputs strictly increasing keys, so each
 * such row is output exactly once (a run needs no de-duplication). Rows inserted during the read
 * may or may not be read. Checked, failing the read (and the run with it) rather than let the merge
 * take unseen rows as deleted: every record has a string key, keys strictly ascend on every page,
 * and a range's page still starts at or before the range's start, and a page searched for at or
 * before the position it was found for (rows removed or moved back before it would break that). Not
 * detectable, so outside the proof: removals elsewhere, and a source whose key order differs from
 * {@code String.compareTo} only across page boundaries (keys mixing supplementary characters with
 * U+E000..U+FFFF, where code point and UTF-16 orders differ).
 *
 * <p><b>Checkpointing.</b> A position is the keys of a chunk: a runner may split after any chunk;
 * the residual (from the key after the chunk, on the page of the last claim, or from an
 * interpolated key, searched for from there) is read the same way. The DoFn checkpoints itself,
 * as the cursor reads do ({@link Lanes}): after {@value SourceReadFn#CHECKPOINT_AFTER_SECONDS} s
 * each lane stops before its next page, once it claimed keys in this call (so that every call
 * moves on). A chunk is at most {@value SourceReadFn#CHUNK_ROWS} rows, so no batch option
 * applies.
 *
 * <p><b>Size and watermark.</b> Beam's default size, from the ranges' progress through their key
 * bytes, summed ({@link LaneSetTracker}): rough, it only balances work. The read is bounded; it
 * emits no watermark of its own.
 */
@BoundedPerElement
public class ReadSnapshotPagesFn extends SourceReadFn<SnapshotRanges> {
  /**
   * A range costs about two calls beyond its pages (the probe of its boundary, and its first page,
   * which the range before it also reads to find its end), made while the other ranges' calls are
   * in flight: a few pages each keep that a small share.
   */
  static final int MIN_PAGES_PER_SPLIT = 4;

  /** A claim is a chunk's keys: it falls in a range when its first key does; {@link PageKeys#REST} never does. */
  private static final Lanes.Ranges<KeyRange, PageKeys> KEY_RANGES = new Lanes.Ranges<>() {
    @Override
    public boolean holds(KeyRange range, PageKeys chunk) {
      ByteKey end = range.keys().getEndKey();
      return !chunk.equals(PageKeys.REST) && (end.isEmpty() || chunk.first().compareTo(end) < 0);
    }

    @Override
    public boolean isEmpty(KeyRange range) {
      ByteKey end = range.keys().getEndKey();
      return !end.isEmpty() && range.keys().getStartKey().compareTo(end) >= 0;
    }
  };

  private final String keyField;

  public ReadSnapshotPagesFn(ReadContext context) {
    super(context);
    this.keyField = SnapshotPages.keyField(context.table()); // fails before any data moves
  }

  @GetInitialRestriction
  public LaneSet<KeyRange> initialRestriction(@Element SnapshotRanges element) {
    return element.restriction();
  }

  @GetRestrictionCoder
  public Coder<LaneSet<KeyRange>> restrictionCoder() {
    return LaneSet.coder(KeyRange.Coder.INSTANCE);
  }

  @NewTracker
  public LaneSetTracker<KeyRange, PageKeys> newTracker(@Restriction LaneSet<KeyRange> restriction) {
    return laneTracker(restriction, PageKeysTracker::new);
  }

  @ProcessElement
  public ProcessContinuation process(
      @Element SnapshotRanges element,
      RestrictionTracker<LaneSet<KeyRange>, LaneSet.Claim<PageKeys>> tracker,
      OutputReceiver<List<GenericRecord>> out) {
    return lanes(KEY_RANGES).read(tracker, CHUNK_ROWS, out, laneOf(element.read()));
  }

  /**
   * The whole table, read outside a runner (a continuous run's snapshot): cut into as many ranges
   * as the connection may have calls in flight, read side by side.
   */
  void readWhole(SnapshotRead read, OutputReceiver<List<GenericRecord>> out) {
    List<KeyRange> ranges = ranges(read, context.source().maxConcurrentRequests(), MIN_PAGES_PER_SPLIT);
    lanes(KEY_RANGES).readWhole(new LaneSet<>(ranges), this::newTracker, CHUNK_ROWS, out, laneOf(read));
  }

  /** Every key cut into up to {@code maxRanges} ranges of at least {@code minPages} pages ({@link SnapshotPages#ranges}). */
  List<KeyRange> ranges(SnapshotRead read, int maxRanges, int minPages) {
    return snapshot().ranges(read, maxRanges, minPages);
  }

  /**
   * One lane: range {@code range} read to its end, or until its tracker stops it, or until {@code
   * pause} holds before a page.
   */
  void readRange(SnapshotRead read, RestrictionTracker<KeyRange, PageKeys> range, OutputReceiver<List<GenericRecord>> out,
      BooleanSupplier pause) {
    new RangeReader(snapshot(), read, range, rows(out, "snapshot", CHUNK_ROWS), pause).read();
  }

  /** The table's pages through this instance's client. */
  private SnapshotPages snapshot() {
    return new SnapshotPages(client, parallel, pages, keyField);
  }

  private Lanes.LaneRead<KeyRange, PageKeys> laneOf(SnapshotRead read) {
    return (range, out, pause) -> readRange(read, range, out, pause);
  }

  /** One lane: its range's pages in order, each read as a stream. */
  private final class RangeReader {
    private final SnapshotPages snapshot;
    private final SnapshotRead read;
    private final RestrictionTracker<KeyRange, PageKeys> tracker;
    private final Rows rows;
    private final BooleanSupplier pause;
    private final ByteKey start;
    @Nullable private ByteKey claimed; // the last key claimed: a page may repeat keys that inserts moved on

    RangeReader(SnapshotPages snapshot, SnapshotRead read, RestrictionTracker<KeyRange, PageKeys> tracker, Rows rows,
        BooleanSupplier pause) {
      this.snapshot = snapshot;
      this.read = read;
      this.tracker = tracker;
      this.rows = rows;
      this.pause = pause;
      this.start = tracker.currentRestriction().keys().getStartKey();
    }

    void read() {
      long number = snapshot.firstPage(read, tracker.currentRestriction());
      // The page the reader starts on (past page 1), and one it searched for, must still start
      // at or before the key it was chosen for.
      @Nullable ByteKey mustStartAtOrBefore = number > 1 ? start : null;
      int idle = 0; // pages in a row, to the last one read, that held no key past this reader's position
      while (true) {
        if (claimed != null && pause.getAsBoolean()) {
          return; // once this call claimed keys, so that every call moves on; the residual starts after them
        }
        if (idle == 2) {
          // One idle page is the norm (a residual starts on its last claim's page); two mean that
          // rows inserted before the position moved it on since its page was read, maybe by many
          // pages (a residual that waited long). Walking there costs a call and a round a page
          // while more rows land; the search 10 to 25 calls in 2 to 5 rounds, whatever the distance.
          ByteKey position = claimed != null ? claimed : start;
          long found = snapshot.lastPageFrom(read, number - 1, position);
          if (found >= number) {
            number = found;
            mustStartAtOrBefore = position;
          }
          idle = 0;
        }
        PageRows page = new PageRows(number, mustStartAtOrBefore);
        PageEnd end = snapshot.fetch(read, number, page);
        if (!page.finish()) {
          return; // the range ends on this page
        }
        if (end.isLast() || page.empty()) {
          tracker.tryClaim(PageKeys.REST); // no row after this page: the range is done
          return;
        }
        mustStartAtOrBefore = null;
        idle = page.freshRows() ? 0 : idle + 1;
        number++;
      }
    }

    /**
     * One page as it streams: checks its keys, converts its fresh rows, and claims and outputs
     * them a chunk at a time. Delivered again from its first record, it skips the chunks claimed.
     */
    private final class PageRows implements RecordHandler {
      private final long number;
      @Nullable private final ByteKey mustStartAtOrBefore;
      private final List<KeyedRow> chunk = new ArrayList<>(); // fresh rows, not yet claimed
      @Nullable private ByteKey previous; // the last key of this delivery
      private boolean fresh; // it held a key past the reader's position
      private boolean ended; // the range ended on this page

      PageRows(long number, @Nullable ByteKey mustStartAtOrBefore) {
        this.number = number;
        this.mustStartAtOrBefore = mustStartAtOrBefore;
      }

      @Override
      public boolean record(ObjectNode record) {
        ByteKey key = snapshot.keyOf(read, number, record);
        checkOrder(key);
        previous = key;
        if (key.compareTo(start) < 0 || (claimed != null && key.compareTo(claimed) <= 0)) {
          return true; // before the range, or claimed already
        }
        fresh = true;
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

      boolean freshRows() {
        return fresh;
      }

      /** After the page's last record: claims the last chunk; false when the range ended here. */
      boolean finish() {
        if (ended) {
          return false;
        }
        if (empty() && mustStartAtOrBefore != null) {
          throw movedBack();
        }
        return claimChunk();
      }

      private void checkOrder(ByteKey key) {
        if (previous == null) {
          if (mustStartAtOrBefore != null && key.compareTo(mustStartAtOrBefore) > 0) {
            throw movedBack();
          }
        } else if (key.compareTo(previous) <= 0) {
          throw snapshot.incomplete(read, number, "lists " + snapshot.keyField() + " '" + SnapshotPages.text(key) + "' after '"
              + SnapshotPages.text(previous) + "'");
        }
      }

      private IllegalStateException movedBack() {
        return snapshot.incomplete(read, number, "no longer starts at or before " + snapshot.keyField() + " '"
            + SnapshotPages.text(mustStartAtOrBefore)
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

  /** A row and its primary key, held until its chunk is claimed. */
  private record KeyedRow(ByteKey key, GenericRecord row) {}

  /**
   * The restriction: a range of keys, and a page whose first key was at most the range's start
   * when it was read (or page 1), where a reader of the range may start: inserts only ever lower a
   * page's first key. With {@code search}, the start may lie many pages after that page (a
   * runner's split at an interpolated key), so the reader first looks for the last page that
   * starts at or before it; a range cut at its page's first key, or resumed after its last claim,
   * starts on its page.
   */
  public record KeyRange(ByteKeyRange keys, long fromPage, boolean search) implements Serializable {
    /** A range that starts on its page. */
    public KeyRange(ByteKeyRange keys, long fromPage) {
      this(keys, fromPage, false);
    }

    /** The start and end keys' bytes, the page, whether to search. */
    static final class Coder extends AtomicCoder<KeyRange> {
      static final Coder INSTANCE = new Coder();

      @Override
      public void encode(KeyRange range, OutputStream out) throws IOException {
        ByteArrayCoder.of().encode(range.keys().getStartKey().getBytes(), out);
        ByteArrayCoder.of().encode(range.keys().getEndKey().getBytes(), out);
        VarLongCoder.of().encode(range.fromPage(), out);
        BooleanCoder.of().encode(range.search(), out);
      }

      @Override
      public KeyRange decode(InputStream in) throws IOException {
        ByteKey start = ByteKey.copyFrom(ByteArrayCoder.of().decode(in));
        ByteKey end = ByteKey.copyFrom(ByteArrayCoder.of().decode(in));
        return new KeyRange(ByteKeyRange.of(start, end), VarLongCoder.of().decode(in), BooleanCoder.of().decode(in));
      }
    }
  }

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
   * keys below the end, and the range is done. A checkpoint's residual starts on the page of the
   * last claim, whose first key is below the residual's start; a split's, at an interpolated key,
   * searches for its first page from there.
   */
  public static final class PageKeysTracker extends RestrictionTracker<KeyRange, PageKeys>
      implements HasProgress {
    private final ByteKeyRangeTracker keys;
    private final long fromPage;
    private final boolean search;
    private long lastPage; // of the last claim; 0: none yet

    PageKeysTracker(KeyRange range) {
      this.keys = ByteKeyRangeTracker.of(range.keys());
      this.fromPage = range.fromPage();
      this.search = range.search();
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
      return new KeyRange(keys.currentRestriction(), fromPage, search);
    }

    @Override
    public synchronized SplitResult<KeyRange> trySplit(double fractionOfRemainder) {
      SplitResult<ByteKeyRange> split = keys.trySplit(fractionOfRemainder);
      if (split == null) {
        return null;
      }
      // A checkpoint's residual starts right after the last claim, or is the range itself.
      boolean interpolated = fractionOfRemainder > 0;
      return SplitResult.of(new KeyRange(split.getPrimary(), fromPage, search),
          new KeyRange(split.getResidual(), lastPage == 0 ? fromPage : lastPage,
              interpolated || (lastPage == 0 && search)));
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
