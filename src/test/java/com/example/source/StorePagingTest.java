package com.example.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.Tables.Table;
import com.example.testing.TestClock;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The O(log n) page lookup against a brute-force model, under random writes and deletes. */
class StorePagingTest {
  static final long BASE = Timestamps.micros(Instant.parse("2024-01-01T00:00:00Z"));

  @Test
  void randomWritesMatchBruteForceModel() {
    for (int ties : new int[] {1, 3}) {
      for (Table t : List.of(Tables.ORDERS, Tables.USERS, Tables.PRODUCTS, Tables.METRICS)) {
        runModel(t, ties, 7 * ties + t.id);
      }
    }
  }

  private void runModel(Table t, int ties, long rndSeed) {
    Random rnd = new Random(rndSeed);
    long n = 60;
    SeedData seed = new SeedData(42, 0.2, BASE, ties, Map.of(t.name, n));
    TestClock clock = TestClock.frozenAt(Instant.parse("2024-01-01T00:00:00Z"));
    Store store = new Store(seed, clock);
    Map<String, Entry> model = new HashMap<>();
    for (long i = 0; i < n; i++) {
      model.put(seed.key(t, i), seed.row(t, i));
    }
    long span = n * t.stepMicros + 1;
    for (int step = 0; step < 400; step++) {
      // the clock wanders inside, before and after the seed range, and sometimes backwards
      clock.set(Timestamps.instant(BASE - span / 4 + (long) (rnd.nextDouble() * span * 1.5)));
      int op = rnd.nextInt(10);
      String key = t.keyPrefix + String.format("%04d", rnd.nextInt((int) n + 20));
      if (t == Tables.PRODUCTS) {
        if (!model.containsKey(key)) {
          Map<String, Object> rec = rec(t, key, rnd);
          model.put(key, store.upsert(t, rec));
        }
      } else if (op < 2 && t == Tables.ORDERS) {
        if (model.containsKey(key)) {
          store.delete(t, key);
          model.remove(key);
        }
      } else {
        model.put(key, store.upsert(t, rec(t, key, rnd)));
      }
      if (step % 5 == 0) {
        check(t, store, model, rnd, span);
      }
    }
  }

  private static Map<String, Object> rec(Table t, String key, Random rnd) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Tables.Field f : t.fields) {
      m.put(f.name, null);
    }
    m.put(t.pk, key);
    if (t == Tables.ORDERS) {
      m.put("status", rnd.nextBoolean() ? "shipped" : "pending");
    }
    if (t == Tables.PRODUCTS) {
      m.put("category", rnd.nextBoolean() ? "books" : "toys");
    }
    return m;
  }

  private void check(Table t, Store store, Map<String, Entry> model, Random rnd, long span) {
    Long since = t.cursor == null || rnd.nextInt(3) == 0 ? null : BASE - span / 4 + (long) (rnd.nextDouble() * span * 1.5);
    Long until = t == Tables.METRICS && rnd.nextBoolean() ? (since == null ? BASE : since) + (long) (rnd.nextDouble() * span) : null;
    Map<String, String> filters = new HashMap<>();
    if (t == Tables.ORDERS && rnd.nextInt(3) == 0) {
      filters.put("status", "shipped");
    }
    if (t == Tables.PRODUCTS && rnd.nextInt(3) == 0) {
      filters.put("category", "books");
    }
    int size = 1 + rnd.nextInt(12);
    List<Entry> expected = new ArrayList<>();
    for (Entry e : model.values()) {
      if (since != null && e.cursor <= since) {
        continue;
      }
      if (until != null && e.cursor > until) {
        continue;
      }
      boolean ok = true;
      for (Map.Entry<String, String> f : filters.entrySet()) {
        ok &= f.getValue().equals(e.record.get(f.getKey()));
      }
      if (ok) {
        expected.add(e);
      }
    }
    expected.sort(Comparator.comparingLong((Entry e) -> e.cursor).thenComparing(e -> e.key));
    int pages = expected.size() / size + 2;
    for (long page = 1; page <= pages; page++) {
      Store.Page p = store.page(t, since, until, filters, page, size);
      int from = (int) Math.min(expected.size(), (page - 1) * size);
      int to = Math.min(expected.size(), from + size);
      List<String> want = new ArrayList<>();
      for (Entry e : expected.subList(from, to)) {
        want.add(e.key + "@" + e.cursor + e.record);
      }
      List<String> got = new ArrayList<>();
      for (Entry e : p.records) {
        got.add(e.key + "@" + e.cursor + e.record);
      }
      assertEquals(want, got, t.name + " page " + page + " size " + size + " since " + since + " until " + until + " " + filters);
      if (to < expected.size()) {
        assertEquals(page + 1, p.nextPage);
      } else {
        assertNull(p.nextPage);
      }
    }
  }

  @Test
  void millionRowsLargePageNumberIsArithmetic() {
    SeedData seed = new SeedData(42, 0.2, BASE, 1, Map.of("users", 1_000_000L, "metrics", 10_000_000L));
    Store store = new Store(seed, Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneOffset.UTC));
    // override a few seed rows and delete nothing: the page after them shifts by exactly that many
    for (int i = 0; i < 5; i++) {
      store.upsert(Tables.USERS, rec(Tables.USERS, seed.key(Tables.USERS, i * 1000), new Random(i)));
    }
    Store.Page p = store.page(Tables.USERS, null, null, Map.of(), 60_000, 15);
    assertEquals(15, p.records.size());
    // rows before offset 899,985: 5 overridden seeds removed from the front => seed index 899,990
    assertEquals(seed.key(Tables.USERS, 899_990), p.records.get(0).key);
    assertEquals(60_001L, p.nextPage);
    Store.Page last = store.page(Tables.USERS, null, null, Map.of(), 66_667, 15);
    // 1,000,000 rows: 999,995 seed + 5 overlay rows (stamped 2030) at the end; offset 999,990
    assertEquals(10, last.records.size());
    assertEquals("user_999999", last.records.get(4).key);
    assertEquals("user_000000", last.records.get(5).key);
    assertEquals("user_004000", last.records.get(9).key);
    assertNull(last.nextPage);
    Store.Page m = store.page(Tables.METRICS, BASE + 5_000_000L * Tables.MINUTE, null, Map.of(), 30_000, 100);
    assertEquals("metric_7999901", m.records.get(0).key); // 5,000,001 + 29,999 * 100
  }
}
