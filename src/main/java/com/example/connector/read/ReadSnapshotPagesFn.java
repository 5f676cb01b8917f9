package com.example.connector.read;

import com.example.connector.catalog.TableDescriptor;
import com.example.connector.client.Page;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.io.range.ByteKey;
import org.apache.beam.sdk.io.range.ByteKeyRange;
import org.apache.beam.sdk.transforms.DoFn.BoundedPerElement;
import org.apache.beam.sdk.transforms.splittabledofn.ByteKeyRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;

/**
 * Reads a whole table without a cursor ({@code products}) as a snapshot, page by page, such that
 * every row that exists throughout the read is read, exactly once, while rows are inserted.
 *
 * <p><b>Restriction.</b> A {@link ByteKeyRange} of primary keys; the initial restriction is every
 * key. Page numbers are no coordinate: an insert moves every later row one place on, across page
 * boundaries. A key is encoded as its UTF-16BE bytes ({@link #keyOf}), whose unsigned byte order
 * is Java's {@code String.compareTo} order, the order the simulated source sorts by.
 *
 * <p><b>Splitting.</b> A logarithmic probe finds the page count {@code n} (doubling, then
 * bisection: about {@code 2 log2 n} calls), and the initial range is cut at the first keys of up
 * to {@value #INITIAL_SPLITS} - 1 evenly spaced pages (one call each) into ranges read in
 * parallel with Beam's {@link ByteKeyRangeTracker}, which runners may split further by
 * interpolating keys. A reader of {@code [start, end)} starts at the last page whose first key is
 * at most {@code start} (page 1 for the first range; found by the same doubling and bisection),
 * reads pages in order, claims each in-range key before outputting its row, skips rows below
 * {@code start} and keys it already claimed (moved onto the next page by inserts), and stops at
 * its first failed claim (a key at or past {@code end}) or after the last page.
 *
 * <p><b>What is proven, and under which contract.</b> Assume, as source-api.md states, that pages
 * list the table sorted by primary key, and that its rows are only inserted: products have no
 * DELETE, and a POST inserts (409 for an existing key), so no row ever leaves the table or a
 * filter's selection. Then the rank of a row {@code r} (how many rows sort before it) never
 * decreases, and the first key of a given page never increases. The reader's first page {@code p}
 * had a first key at most {@code start <= r} (or is page 1), so {@code r}'s rank is at least
 * {@code (p - 1) * size} from then on. If {@code r} is not on a page when the reader reads it,
 * its rank is past that page, hence past the start of the next one: by induction, every key read
 * is below {@code r}, so the reader can neither stop at a key {@code >= end > r} nor see the last
 * page. So each range's reader claims every row of its range that exists throughout; the ranges,
 * and every split of them, partition the keys, and a tracker claims strictly increasing keys, so
 * each such row is output exactly once (a run needs no de-duplication). Rows inserted during the
 * read may or may not be read. Checked on every page: keys strictly ascend in this order, and
 * every record has a string key; otherwise the read fails (and the run with it) rather than let
 * the merge take unseen rows as deleted. Not detectable, so outside the proof: deletes, and a
 * source whose key order differs from {@code String.compareTo} only across page boundaries (keys
 * mixing supplementary characters with U+E000..U+FFFF, where UTF-8 and UTF-16 orders differ).
 *
 * <p><b>Checkpointing.</b> A position is a key: a runner may split or checkpoint after any claimed
 * key, and the residual {@code [next key, end)} is read the same way, from its own search. A page
 * is at most the source's page size, so no batch option applies.
 *
 * <p><b>Size and watermark.</b> Beam's default size, from the tracker's progress through the key
 * bytes: rough, it only balances work. The read is bounded; it emits no watermark of its own.
 */
@BoundedPerElement
public class ReadSnapshotPagesFn extends SourceReadFn<SnapshotRead> {
  static final int INITIAL_SPLITS = 8;
  /** A split's start costs a search of about {@code 2 log2 n} calls: worth it past this many pages. */
  static final int MIN_PAGES_PER_SPLIT = 16;

  private final String keyField;

  public ReadSnapshotPagesFn(ReadContext context) {
    super(context);
    this.keyField = keyField(context.table());
  }

  @GetInitialRestriction
  public ByteKeyRange initialRestriction() {
    return ByteKeyRange.ALL_KEYS;
  }

  @GetRestrictionCoder
  public Coder<ByteKeyRange> restrictionCoder() {
    return SerializableCoder.of(ByteKeyRange.class);
  }

  @SplitRestriction
  public void splitRestriction(
      @Element SnapshotRead read, @Restriction ByteKeyRange range, OutputReceiver<ByteKeyRange> out) {
    ByteKey from = range.getStartKey();
    for (ByteKey boundary : boundaries(read)) {
      if (boundary.compareTo(from) > 0 && range.containsKey(boundary)) {
        out.output(ByteKeyRange.of(from, boundary));
        from = boundary;
      }
    }
    out.output(ByteKeyRange.of(from, range.getEndKey()));
  }

  @NewTracker
  public ByteKeyRangeTracker newTracker(@Restriction ByteKeyRange range) {
    return ByteKeyRangeTracker.of(range);
  }

  @ProcessElement
  public void process(
      @Element SnapshotRead read,
      RestrictionTracker<ByteKeyRange, ByteKey> tracker,
      OutputReceiver<List<GenericRecord>> out) {
    ByteKey start = tracker.currentRestriction().getStartKey();
    Rows rows = rows(out, "snapshot");
    ByteKey claimed = null; // the last key claimed: a page may repeat keys that inserts moved on
    for (KeyedPage page = lastPage(read, p -> p.startsAtOrBefore(start)); ;
        page = fetch(read, page.number() + 1)) {
      for (int i = 0; i < page.keys().size(); i++) {
        ByteKey key = page.keys().get(i);
        if (key.compareTo(start) < 0 || (claimed != null && key.compareTo(claimed) <= 0)) {
          continue;
        }
        if (!tracker.tryClaim(key)) {
          rows.flush(); // the rows claimed before: the rest of the range is someone else's
          return;
        }
        claimed = key;
        rows.add(page.records().get(i));
      }
      rows.flush(); // one output per page
      if (page.isLast()) {
        tracker.tryClaim(ByteKey.EMPTY); // no row after this page: the range is done
        return;
      }
    }
  }

  /** First keys of evenly spaced pages: where to cut the table into ranges of similar size. */
  private List<ByteKey> boundaries(SnapshotRead read) {
    long pages = lastPage(read, page -> !page.keys().isEmpty()).number();
    long splits = Math.min(INITIAL_SPLITS, Math.max(1, pages / MIN_PAGES_PER_SPLIT));
    List<ByteKey> keys = new ArrayList<>();
    for (long i = 1; i < splits; i++) {
      KeyedPage page = fetch(read, 1 + i * pages / splits);
      if (!page.keys().isEmpty()) {
        keys.add(page.keys().get(0));
      }
    }
    return keys;
  }

  /**
   * The last page that {@code holds} (true for a prefix of the pages), or page 1 when none does:
   * doubling until a page does not hold or is the last, then bisection.
   */
  private KeyedPage lastPage(SnapshotRead read, Predicate<KeyedPage> holds) {
    KeyedPage best = fetch(read, 1);
    // The first page known not to hold, or past the last page (MAX_VALUE: none known yet).
    long limit = holds.test(best) && !best.isLast() ? Long.MAX_VALUE : 2;
    while (limit - best.number() > 1) {
      long probe = limit == Long.MAX_VALUE ? 2 * best.number() : (best.number() + limit) / 2;
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
        throw incomplete(read, number, "lists " + keyField + " '" + record.get(keyField).textValue()
            + "' after '" + page.records().get(keys.size() - 1).get(keyField).textValue() + "'");
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

  private IllegalStateException incomplete(SnapshotRead read, long page, String what) {
    return new IllegalStateException(
        "The snapshot of '" + read.table() + "' cannot be proven complete: page " + page + " " + what
            + ". A snapshot read needs every page sorted by " + keyField + " (Java String order), as"
            + " the source API documents; the run stops rather than take rows it did not see as"
            + " deleted.");
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
  }
}
