package com.example.connector.read;

import com.example.connector.ParallelCalls;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

/** Finding where a property of pages stops holding, in few rounds of calls: both reads' page-count probes. */
final class PageSearch {
  /**
   * Pages probed side by side in a round after the first: a round costs one call's latency, so
   * a search over {@code n} pages takes about {@code 1 + log8 n} rounds where one probe at a time
   * took {@code 2 log2 n} calls' latency.
   */
  static final int WIDTH = 8;

  private PageSearch() {}

  /**
   * The last page from {@code from} (taken to hold, unread) that {@code holds}, where it holds for
   * a prefix of the pages from there: distances from {@code from} doubling until a page does not
   * hold, then the gap left cut into {@value #WIDTH} + 1 parts per round. The first round probes
   * only the next page, so that the search costs one call when {@code from} is the one; later
   * rounds probe {@value #WIDTH} pages side by side on {@code calls}, so {@code holds} must be
   * thread-safe.
   */
  static long lastHolding(long from, LongPredicate holds, ParallelCalls calls) {
    long best = from;
    long limit = Long.MAX_VALUE; // the first page known not to hold (MAX_VALUE: none known yet)
    boolean first = true;
    while (limit - best > 1) {
      List<Long> probes =
          limit == Long.MAX_VALUE ? doublings(from, best, first ? 1 : WIDTH) : cuts(best, limit);
      if (probes.isEmpty()) {
        return best; // past any page count a source could hold
      }
      List<Boolean> held = calls.map(probes, holds::test);
      for (int i = 0; i < probes.size(); i++) {
        if (!held.get(i)) {
          limit = Math.min(limit, probes.get(i));
        }
      }
      for (int i = 0; i < probes.size(); i++) {
        if (held.get(i) && probes.get(i) < limit) {
          best = Math.max(best, probes.get(i));
        }
      }
      first = false;
    }
    return best;
  }

  /**
   * Where to cut {@code pageCount} pages into up to {@code maxSplits} ranges of at least {@code
   * minPages} pages: the first page of each range after the first, {@code 1 + i * n / k}.
   */
  static List<Long> cutPages(long pageCount, long maxSplits, long minPages) {
    long splits = Math.min(maxSplits, Math.max(1, pageCount / minPages));
    List<Long> pages = new ArrayList<>();
    for (long i = 1; i < splits; i++) {
      pages.add(1 + i * pageCount / splits);
    }
    return pages;
  }

  /** The next {@code count} pages at doubling distances from {@code from}, after {@code best}. */
  private static List<Long> doublings(long from, long best, int count) {
    List<Long> probes = new ArrayList<>(count);
    long distance = best - from;
    for (int i = 0; i < count && distance < Long.MAX_VALUE / 4; i++) {
      distance = 2 * distance + 1;
      probes.add(from + distance);
    }
    return probes;
  }

  /** Up to {@value #WIDTH} pages spread evenly strictly between {@code best} and {@code limit}. */
  private static List<Long> cuts(long best, long limit) {
    List<Long> probes = new ArrayList<>(WIDTH);
    long gap = limit - best;
    for (int i = 1; i <= WIDTH; i++) {
      long probe = best + Math.max(1, (long) ((double) gap * i / (WIDTH + 1)));
      if (probe < limit && (probes.isEmpty() || probe > probes.get(probes.size() - 1))) {
        probes.add(probe);
      }
    }
    return probes;
  }
}
