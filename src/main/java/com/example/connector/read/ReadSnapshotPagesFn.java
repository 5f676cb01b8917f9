package com.example.connector.read;

import com.example.connector.catalog.TableDescriptor;
import com.example.connector.client.Page;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import javax.annotation.Nullable;
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
 * <p><b>Splitting.</b> A logarithmic probe finds the page count {@code n} (doubling, then
 * bisection: about {@code 2 log2 n} calls), and the initial range is cut at the first keys of up
 * to {@value #INITIAL_SPLITS} - 1 evenly spaced pages (one call each; at least
 * {@value #MIN_PAGES_PER_SPLIT} pages per range) into ranges read in parallel with Beam's {@link
 * ByteKeyRangeTracker} (in a {@link PageKeysTracker}), which runners may split further by
 * interpolating keys. A reader of {@code [start, end)} starts at the last page whose first key is
 * at most {@code start}, searched for from the range's page (doubling the step, then bisection:
 * two calls when that page is the one, as for the initial ranges and checkpoints), reads pages in
 * order, skips rows below {@code start} and keys it already claimed (moved onto the next page by
 * inserts), claims a page's other keys at once before outputting those below {@code end}, and
 * stops at a page that reaches {@code end} or after the last page.
 *
 * <p><b>What is proven, and under which contract.</b> Assume, as source-api.md states, that pages
 * list the table sorted by primary key, and that its rows are only inserted: products have no
 * DELETE, and a POST inserts (409 for an existing key), so no row ever leaves the table or a
 * filter's selection. Then the rank of a row {@code r} (how many rows sort before it) never
 * decreases, and the first key of a given page never increases: a range's page keeps starting at
 * or before the range's start. The reader's first page {@code p} had a first key at most {@code
 * start <= r} (or is page 1), so {@code r}'s rank is at least {@code (p - 1) * size} from then
 * on. If {@code r} is not on a page when the reader reads it, its rank is past that page, hence
 * past the start of the next one: by induction, every key read is below {@code r}, so the reader
 * can neither stop at a key {@code >= end > r} nor see the last page. So each range's reader
 * outputs every row of its range that exists throughout; the ranges, and every split of them,
 * partition the keys, and a reader outputs strictly increasing keys, so each such row is output
 * exactly once (a run needs no de-duplication). Rows inserted during the read may or may not be
 * read. Checked, failing the read (and the run with it) rather than let the merge take unseen
 * rows as deleted: every record has a string key, keys strictly ascend on every page, and a
 * range's page still starts at or before the range's start (rows removed or moved back before it
 * would break that). Not detectable, so outside the proof: removals elsewhere, and a source whose
 * key order differs from {@code String.compareTo} only across page boundaries (keys mixing
 * supplementary characters with U+E000..U+FFFF, where code point and UTF-16 orders differ).
 *
 * <p><b>Checkpointing.</b> A position is the keys of a page: a runner may split or checkpoint
 * after any page; the residual (from the key after the page, or from an interpolated key) is read
 * the same way, searched for from the page of the last claim. A page is at most the source's page
 * size, so no batch option applies.
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
    for (KeyedPage boundary : boundaries(read)) {
      ByteKey key = boundary.keys().get(0);
      if (key.compareTo(from) > 0 && range.keys().containsKey(key)) {
        out.output(new KeyRange(ByteKeyRange.of(from, key), fromPage));
        from = key;
        fromPage = boundary.number();
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
    KeyRange range = tracker.currentRestriction();
    ByteKey start = range.keys().getStartKey();
    Rows rows = rows(out, "snapshot");
    ByteKey claimed = null; // the last key claimed: a page may repeat keys that inserts moved on
    for (KeyedPage page = firstPage(read, range); ; page = fetch(read, page.number() + 1)) {
      List<Integer> fresh = page.keysFrom(start, claimed);
      if (!fresh.isEmpty()) {
        ByteKey first = page.keys().get(fresh.get(0));
        claimed = page.keys().get(fresh.get(fresh.size() - 1));
        if (!tracker.tryClaim(new PageKeys(first, claimed, page.number()))) {
          return; // the page starts at or past the range's end
        }
        // After the claim a split can only fall past the page: the end is final for its keys.
        ByteKey end = tracker.currentRestriction().keys().getEndKey();
        for (int i : fresh) {
          if (end.isEmpty() || page.keys().get(i).compareTo(end) < 0) {
            rows.add(page.records().get(i));
          }
        }
        rows.flush(); // one output per page
        if (!end.isEmpty() && claimed.compareTo(end) >= 0) {
          return; // the range ends on this page
        }
      }
      if (page.isLast()) {
        tracker.tryClaim(PageKeys.REST); // no row after this page: the range is done
        return;
      }
    }
  }

  /**
   * The last page whose first key is at most the range's start, searched from the range's own
   * page; failing when that page no longer starts at or before it, which inserts cannot cause.
   */
  private KeyedPage firstPage(SnapshotRead read, KeyRange range) {
    ByteKey start = range.keys().getStartKey();
    KeyedPage page = lastPage(read, range.fromPage(), p -> p.startsAtOrBefore(start));
    if (page.number() > 1 && !page.startsAtOrBefore(start)) {
      throw incomplete(read, page.number(), "no longer starts at or before " + keyField + " '"
          + text(start) + "' as it did when read: rows left the table or moved back");
    }
    return page;
  }

  /** Evenly spaced pages, by their first keys: where to cut the table into ranges of similar size. */
  private List<KeyedPage> boundaries(SnapshotRead read) {
    long pages = lastPage(read, 1, page -> !page.keys().isEmpty()).number();
    long splits = Math.min(INITIAL_SPLITS, Math.max(1, pages / MIN_PAGES_PER_SPLIT));
    List<KeyedPage> boundaries = new ArrayList<>();
    for (long i = 1; i < splits; i++) {
      KeyedPage page = fetch(read, 1 + i * pages / splits);
      if (!page.keys().isEmpty()) {
        boundaries.add(page);
      }
    }
    return boundaries;
  }

  /**
   * From page {@code from}, the last page that {@code holds} (true for a prefix of the pages from
   * there), or page {@code from} when none does: steps doubling from {@code from} until a page
   * does not hold or is the last, then bisection; about {@code 2 log2} of the distance in calls.
   */
  private KeyedPage lastPage(SnapshotRead read, long from, Predicate<KeyedPage> holds) {
    KeyedPage best = fetch(read, from);
    // The first page known not to hold, or past the last page (MAX_VALUE: none known yet).
    long limit = holds.test(best) && !best.isLast() ? Long.MAX_VALUE : from + 1;
    while (limit - best.number() > 1) {
      long probe = limit == Long.MAX_VALUE ? 2 * best.number() - from + 1 : (best.number() + limit) / 2;
      KeyedPage page = fetch(read, probe);
      if (!holds.test(page)) {
        limit = probe;
      } else {
        best = page;
        limit = page.isLast() ? probe + 1 : limit;
      }
    }
    return best;
  }

  private KeyedPage fetch(SnapshotRead read, long number) {
    Map<String, String> params = new HashMap<>(read.params());
    params.put("page", Long.toString(number));
    pages.inc();
    Page page = client.records(read.table(), params);
    List<ByteKey> keys = new ArrayList<>(page.records().size());
    for (ObjectNode record : page.records()) {
      ByteKey key = keyOf(read, number, record);
      if (!keys.isEmpty() && key.compareTo(keys.get(keys.size() - 1)) <= 0) {
        throw incomplete(read, number, "lists " + keyField + " '" + text(key) + "' after '"
            + text(keys.get(keys.size() - 1)) + "'");
      }
      keys.add(key);
    }
    return new KeyedPage(number, page.records(), keys, page.isLast());
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

  /** A page as read: its number, its records and their keys (strictly ascending). */
  private record KeyedPage(long number, List<ObjectNode> records, List<ByteKey> keys, boolean last) {
    /** Nothing after this page: the source said so, or the page is empty. */
    boolean isLast() {
      return last || keys.isEmpty();
    }

    boolean startsAtOrBefore(ByteKey key) {
      return !keys.isEmpty() && keys.get(0).compareTo(key) <= 0;
    }

    /** Indices of the keys at or after {@code start} and after {@code claimed} (if any). */
    List<Integer> keysFrom(ByteKey start, @Nullable ByteKey claimed) {
      List<Integer> fresh = new ArrayList<>();
      for (int i = 0; i < keys.size(); i++) {
        ByteKey key = keys.get(i);
        if (key.compareTo(start) >= 0 && (claimed == null || key.compareTo(claimed) > 0)) {
          fresh.add(i);
        }
      }
      return fresh;
    }
  }

  /**
   * The restriction: a range of keys, and a page whose first key was at most the range's start
   * when it was read (or page 1), where a reader of the range may start looking: inserts only
   * ever lower a page's first key.
   */
  public record KeyRange(ByteKeyRange keys, long fromPage) implements Serializable {}

  /**
   * The keys of one page that a reader claims at once, {@code first} to {@code last}, and the
   * page's number; {@link #REST} claims whatever is left of the range (no row after the last page).
   */
  public record PageKeys(ByteKey first, ByteKey last, long page) {
    public static final PageKeys REST = new PageKeys(ByteKey.EMPTY, ByteKey.EMPTY, 0);
  }

  /**
   * Beam's {@link ByteKeyRangeTracker}, claiming a page's keys at once: it claims the page's first
   * key, then attempts its last, in one synchronized call. So a split, which always falls after the
   * last attempted key, never cuts a page being output, and the rows of one page make one output
   * (claiming key by key, each row would have to be output before the next claim: Beam forbids
   * output after a failed claim). When the range ends within the page, the claim holds its keys
   * below the end, and the range is done. A residual starts looking at the page of the last claim,
   * whose first key is below the residual's start.
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
