package com.example.connector.read;

import java.util.function.LongPredicate;

/** Finding where a property of pages stops holding, in few calls: both reads' page-count probes. */
final class PageSearch {
  private PageSearch() {}

  /**
   * The last page from {@code from} (taken to hold, unread) that {@code holds}, where it holds for
   * a prefix of the pages from there: steps doubling from {@code from} until a page does not hold,
   * then bisection; about {@code 2 log2} of the distance in calls, one when {@code from} is the one.
   */
  static long lastHolding(long from, LongPredicate holds) {
    long best = from;
    long limit = Long.MAX_VALUE; // the first page known not to hold (MAX_VALUE: none known yet)
    while (limit - best > 1) {
      long probe = limit == Long.MAX_VALUE ? 2 * best - from + 1 : best + (limit - best) / 2;
      if (holds.test(probe)) {
        best = probe;
      } else {
        limit = probe;
      }
    }
    return best;
  }
}
