package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.ParallelCalls;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link PageSearch} against a model: a table of {@code n} pages, of which a prefix holds. */
class PageSearchTest {
  private final ParallelCalls calls = new ParallelCalls("page search test");

  @AfterEach
  void close() {
    calls.close();
  }

  @Test
  void findsTheLastHoldingPageForEveryCountAndStart() {
    for (long from = 1; from <= 40; from += 13) {
      for (long last = from; last <= from + 1000; last++) {
        long expected = last;
        assertEquals(expected, PageSearch.lastHolding(from, page -> page <= expected, calls), "from " + from);
      }
    }
  }

  @Test
  void costsOneCallWhenTheStartIsTheLastAndFewCallsOtherwise() {
    Set<Long> asked = ConcurrentHashMap.newKeySet();
    assertEquals(7, PageSearch.lastHolding(7, page -> asked.add(page) && page <= 7, calls));
    assertEquals(Set.of(8L), asked, "one probe, the next page");

    asked.clear();
    assertEquals(1000, PageSearch.lastHolding(1, page -> asked.add(page) && page <= 1000, calls));
    // Page 2; 4 .. 512 (all hold); 1024 .. 131072 (1024 does not); then at most 8 a round in
    // (512, 1024): gaps of 511, 56, 6: four rounds of at most 8.
    assertTrue(asked.containsAll(List.of(2L, 4L, 512L, 1024L)), asked.toString());
    assertTrue(asked.size() <= 1 + 8 + 8 + 4 * 8, asked.size() + " probes: " + asked);
  }
}
