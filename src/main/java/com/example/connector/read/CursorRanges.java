package com.example.connector.read;

import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.ParallelCalls;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.metrics.Counter;

/** Where a cursor feed's read starts and ends in this run, and how it is cut into sub-ranges. */
final class CursorRanges {
  /**
   * The fewest pages a probed sub-range holds: a cut costs about two calls (its probe, and the
   * page the range before it reads past its end), so at 8 pages the cuts add at most a quarter to
   * a feed's calls (at 4, half: the benchmark's five tables took 4,148 calls instead of 3,703).
   */
  static final int MIN_PAGES_PER_SPLIT = 8;

  private CursorRanges() {}

  /**
   * {@code [from, cap)}: from the committed cursor, else {@code start_timestamp}, else the
   * feed's oldest record; an empty range at the cap when there is nothing to read.
   */
  static OffsetRange initial(ExampleClient client, CursorFeed feed, String cursorField) {
    Long from = feed.fromMicros() != null ? feed.fromMicros() : feed.startMicros();
    if (from == null) {
      from = CursorGroupReader.firstCursorAfter(client, feed, cursorField, null);
    }
    long cap = feed.capMicros();
    return from == null || from >= cap ? new OffsetRange(cap, cap) : new OffsetRange(from, cap);
  }

  /**
   * {@code range} cut into up to {@code maxSplits} sub-ranges holding about equal numbers
   * of records, at least {@code minPages} pages each ({@value #MIN_PAGES_PER_SPLIT} in a run),
   * found by probing the feed under the fixed {@code since = from - 1 µs}: the feed is sorted by
   * cursor, so the first cursor of page {@code 1 + i * n / k} (of {@code n} pages below the
   * range's end) is where the {@code i}-th of {@code k} sub-ranges starts. A cut is a cursor
   * value {@code c}, giving {@code [.., c)} and {@code [c, ..)}, so a tie group is never cut. Each
   * probe reads one record. The page count takes about {@code 1 + log8 n} rounds of probes made
   * side by side ({@link PageSearch}), the cuts one more round: against a remote API the split
   * costs a few calls' latency, not one per probe.
   *
   * <p>A windowed feed's cuts move down to a window boundary (counted from the range's start), so
   * that its sub-ranges hold whole windows.
   *
   * <p>Records that move or leave while probing only shift where the cuts fall: any cuts
   * partition the range, and the reads, not the probes, decide what is read.
   */
  static List<OffsetRange> byRecords(ExampleClient client, CursorFeed feed, String cursorField, OffsetRange range,
      int maxSplits, int minPages, Counter pages, ParallelCalls calls) {
    if (range.getFrom() >= range.getTo()) {
      return List.of(range);
    }
    PageProbe probe = new PageProbe(client, feed, cursorField, range, pages);
    long pageCount = probe.firstCursor(1) == null
        ? 0 : PageSearch.lastHolding(1, page -> probe.firstCursor(page) != null, calls);
    List<Long> cutPages = PageSearch.cutPages(pageCount, maxSplits, minPages);
    List<Long> cuts = new ArrayList<>();
    for (Long cursor : calls.map(cutPages, probe::firstCursor)) { // one round of calls
      if (cursor != null) {
        cuts.add(feed.windowMicros() == null ? cursor : windowStart(range, feed.windowMicros(), cursor));
      }
    }
    return cutAt(range, cuts);
  }

  /** The start of the window holding {@code cursor}, windows laid from the range's start. */
  private static long windowStart(OffsetRange range, long windowMicros, long cursor) {
    return range.getFrom() + (cursor - range.getFrom()) / windowMicros * windowMicros;
  }

  /**
   * {@code range} cut at the given cursors; cuts outside it or not above the previous cut (two
   * in one window, or records moved between probes) are left out, so the pieces always partition
   * the range.
   */
  private static List<OffsetRange> cutAt(OffsetRange range, List<Long> cuts) {
    List<OffsetRange> pieces = new ArrayList<>();
    long from = range.getFrom();
    for (long cut : cuts) {
      if (cut > from && cut < range.getTo()) {
        pieces.add(new OffsetRange(from, cut));
        from = cut;
      }
    }
    pieces.add(new OffsetRange(from, range.getTo()));
    return pieces;
  }

  /**
   * The first cursors of a range's pages, by page number under {@code since = from - 1 µs} and
   * the feed's own params, each page asked for once; probes run side by side.
   */
  private static final class PageProbe {
    private final PageFetcher pages;
    private final String table;
    private final String cursorField;
    private final OffsetRange range;
    private final Map<Long, Optional<Long>> firstCursors = new ConcurrentHashMap<>(); // page -> cursor, if any

    PageProbe(ExampleClient client, CursorFeed feed, String cursorField, OffsetRange range, Counter pages) {
      this.pages = PageFetcher.of(client, feed, pages);
      this.table = feed.table();
      this.cursorField = cursorField;
      this.range = range;
    }

    /** The first cursor of page {@code page}, or null if it is empty or starts at the end or past it. */
    @Nullable
    Long firstCursor(long page) {
      // Not computeIfAbsent: that would hold a lock of the map during the call.
      Optional<Long> known = firstCursors.get(page);
      if (known == null) {
        Long cursor = pages.first(
            Map.of("since", Timestamps.formatMicros(range.getFrom() - 1), "page", Long.toString(page)),
            record -> CursorGroupReader.cursorOf(record, table, cursorField));
        known = Optional.ofNullable(cursor != null && cursor < range.getTo() ? cursor : null);
        firstCursors.put(page, known);
      }
      return known.orElse(null);
    }
  }
}
