package com.example.source;

import com.example.source.Tables.Field;
import com.example.source.Tables.Table;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The table data: the on-demand seed plus, per table, an overlay of written records and deleted
 * seed keys.
 *
 * <p>Per table the visible rows are the merge of two sequences, both sorted by (cursor, key):
 * <ul>
 *   <li>A: seed indices in a range that are not in {@code overridden} (a sorted array of seed
 *       indices that were updated or deleted). Counting and selecting the j-th visible index are
 *       O(log m) by arithmetic plus binary search over that array.
 *   <li>B: overlay entries in a sorted array list (binary search by cursor).
 * </ul>
 * A page at offset k is located by binary search over how many of the first k merged rows come
 * from A, so an unfiltered page costs O(log^2 n + page size) and never scans. Filtered reads
 * (category, user_id, status) scan the merge, which is acceptable for this simulated source.
 *
 * <p>One read-write lock guards everything: reads share it, writes are exclusive.
 */
final class Store {
  private final SeedData seed;
  private final Clock clock;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final State[] states = new State[Tables.ALL.size()];
  private long lastStamp = Long.MIN_VALUE; // guarded by the write lock
  private final AtomicLong writes = new AtomicLong();
  private final Condition written = lock.writeLock().newCondition();

  private static final class State {
    final ArrayList<Entry> sorted = new ArrayList<>(); // overlay, by (cursor, key)
    final HashMap<String, Entry> byKey = new HashMap<>();
    final SortedLongs overridden = new SortedLongs();
    final ArrayList<Entry> tombstones = new ArrayList<>(); // by (cursor, key); stamps increase
    volatile List<Field> added = List.of(); // columns added at run time, after the contract's
  }

  static final class Page {
    final List<Entry> records;
    final Long nextPage;

    Page(List<Entry> records, Long nextPage) {
      this.records = records;
      this.nextPage = nextPage;
    }
  }

  Store(SeedData seed, Clock clock) {
    this.seed = seed;
    this.clock = clock;
    for (int i = 0; i < states.length; i++) {
      states[i] = new State();
    }
  }

  SeedData seed() {
    return seed;
  }

  long writeCount() {
    return writes.get();
  }

  /** Waits until {@code count} writes have been applied; false if the timeout passed first. */
  boolean awaitWrites(long count, Duration timeout) throws InterruptedException {
    long nanos = timeout.toNanos();
    lock.writeLock().lock();
    try {
      while (writes.get() < count) {
        if (nanos <= 0) {
          return false;
        }
        nanos = written.awaitNanos(nanos);
      }
      return true;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Counts a write; called with the write lock held. */
  private void counted() {
    writes.incrementAndGet();
    written.signalAll();
  }

  // ---------------------------------------------------------------- columns

  /** The table's columns: the contract's, then those added at run time. */
  List<Field> fields(Table t) {
    List<Field> added = states[t.id].added;
    if (added.isEmpty()) {
      return t.fields;
    }
    List<Field> all = new ArrayList<>(t.fields);
    all.addAll(added);
    return all;
  }

  /** Adds a column to the table; 409 if it has one of that name. */
  void addColumn(Table t, Field column) {
    lock.writeLock().lock();
    try {
      if (fields(t).stream().anyMatch(f -> f.name.equals(column.name))) {
        throw new ApiError(409, "table " + t.name + " already has a column '" + column.name + "'");
      }
      List<Field> added = new ArrayList<>(states[t.id].added);
      added.add(column);
      states[t.id].added = List.copyOf(added);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** A record as the API answers it: every column, null where a column added later was never written. */
  Map<String, Object> rendered(Table t, Entry e) {
    List<Field> added = states[t.id].added;
    if (added.isEmpty()) {
      return e.record;
    }
    Map<String, Object> rec = new LinkedHashMap<>(e.record);
    added.forEach(f -> rec.putIfAbsent(f.name, null));
    return rec;
  }

  // ---------------------------------------------------------------- reads

  /**
   * One page of the visible records with cursor in (since, until], matching all filters.
   * {@code since}/{@code until} null = unbounded; {@code page} >= 1.
   */
  Page page(Table t, Long since, Long until, Map<String, String> filters, long page, int size) {
    lock.readLock().lock();
    try {
      State st = states[t.id];
      long n = seed.count(t);
      long lo = since == null ? 0 : seed.firstIndexAfter(t, since);
      long hi = until == null ? n : seed.firstIndexAfter(t, until);
      if (hi < lo) {
        hi = lo;
      }
      int bLo = since == null ? 0 : firstOverlayAfter(st.sorted, since);
      int bHi = until == null ? st.sorted.size() : firstOverlayAfter(st.sorted, until);
      if (bHi < bLo) {
        bHi = bLo;
      }
      long offset = offset(page, size);
      return filters.isEmpty()
          ? unfiltered(t, st, lo, hi, bLo, bHi, offset, page, size)
          : filtered(t, st, lo, hi, bLo, bHi, filters, offset, page, size);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Offset of a page, or Long.MAX_VALUE when it is beyond any possible end. */
  private static long offset(long page, int size) {
    if (page - 1 > (Long.MAX_VALUE / 2) / size) {
      return Long.MAX_VALUE;
    }
    return (page - 1) * size;
  }

  private Page unfiltered(Table t, State st, long lo, long hi, int bLo, int bHi, long k, long page, int size) {
    SortedLongs o = st.overridden;
    int oLo = o.lowerBound(lo);
    long na = (hi - lo) - (o.lowerBound(hi) - oLo);
    long nb = bHi - bLo;
    long total = na + nb;
    if (k >= total) {
      return new Page(List.of(), null);
    }
    // a = how many of the first k merged rows come from the seed sequence A.
    long aLo = Math.max(0, k - nb);
    long aHi = Math.min(k, na);
    while (aLo < aHi) {
      long mid = (aLo + aHi) >>> 1;
      long x = selectSeed(o, lo, oLo, mid);
      Entry b = st.sorted.get(bLo + (int) (k - mid - 1));
      if (Entry.compare(seed.cursor(t, x), seed.key(t, x), b.cursor, b.key) < 0) {
        aLo = mid + 1;
      } else {
        aHi = mid;
      }
    }
    long a = aLo;
    Merge m = new Merge(t, st, a < na ? selectSeed(o, lo, oLo, a) : hi, hi, bLo + (int) (k - a), bHi);
    int want = (int) Math.min(size, total - k);
    List<Entry> out = new ArrayList<>(want);
    while (out.size() < want && m.hasNext()) {
      out.add(m.nextEntry());
    }
    return new Page(out, k + want < total ? Long.valueOf(page + 1) : null);
  }

  private Page filtered(Table t, State st, long lo, long hi, int bLo, int bHi, Map<String, String> filters,
      long k, long page, int size) {
    int[] fieldNos = new int[filters.size()];
    String[] wanted = new String[filters.size()];
    int f = 0;
    for (Map.Entry<String, String> e : filters.entrySet()) {
      fieldNos[f] = t.fieldIndex(e.getKey());
      wanted[f++] = e.getValue();
    }
    Merge m = new Merge(t, st, selectSeed(st.overridden, lo, st.overridden.lowerBound(lo), 0), hi, bLo, bHi);
    long matched = 0;
    List<Entry> out = new ArrayList<>();
    boolean more = false;
    while (m.hasNext()) {
      boolean fromSeed = m.peekIsSeed();
      long x = m.x;
      Entry e = fromSeed ? null : st.sorted.get(m.bi);
      boolean ok = true;
      for (int i = 0; i < fieldNos.length && ok; i++) {
        Object v = fromSeed ? seed.value(t, x, fieldNos[i]) : e.record.get(t.fields.get(fieldNos[i]).name);
        ok = wanted[i].equals(v);
      }
      if (!ok) {
        m.skip();
        continue;
      }
      if (matched >= k) {
        if (out.size() == size) {
          more = true;
          break;
        }
        out.add(m.nextEntry());
      } else {
        m.skip();
      }
      matched++;
    }
    return new Page(out, more ? Long.valueOf(page + 1) : null);
  }

  /** The j-th (0-based) seed index >= lo that is not overridden; oLo = overridden.lowerBound(lo). */
  private static long selectSeed(SortedLongs o, long lo, int oLo, long j) {
    // f(q) = free indices in [lo, O[q]) = O[q] - lo - (q - oLo) is non-decreasing in q.
    int qLo = oLo;
    int qHi = o.size();
    while (qLo < qHi) {
      int mid = (qLo + qHi) >>> 1;
      if (o.get(mid) - lo - (mid - oLo) <= j) {
        qLo = mid + 1;
      } else {
        qHi = mid;
      }
    }
    return lo + j + (qLo - oLo);
  }

  private static int firstOverlayAfter(List<Entry> sorted, long cursor) {
    int lo = 0;
    int hi = sorted.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (sorted.get(mid).cursor <= cursor) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Walks the merge of visible seed rows [x, hi) and overlay entries [bi, bHi). */
  private final class Merge {
    final Table t;
    final State st;
    long x;
    final long hi;
    int bi;
    final int bHi;
    int q; // position in overridden of the first element >= x

    Merge(Table t, State st, long x, long hi, int bi, int bHi) {
      this.t = t;
      this.st = st;
      this.hi = hi;
      this.bi = bi;
      this.bHi = bHi;
      this.q = st.overridden.lowerBound(x);
      this.x = x;
      advanceFree();
    }

    private void advanceFree() {
      SortedLongs o = st.overridden;
      while (q < o.size() && o.get(q) < x) {
        q++;
      }
      while (q < o.size() && o.get(q) == x) {
        x++;
        q++;
      }
    }

    boolean hasNext() {
      return x < hi || bi < bHi;
    }

    boolean peekIsSeed() {
      if (x >= hi) {
        return false;
      }
      if (bi >= bHi) {
        return true;
      }
      Entry b = st.sorted.get(bi);
      return Entry.compare(seed.cursor(t, x), seed.key(t, x), b.cursor, b.key) < 0;
    }

    Entry nextEntry() {
      if (peekIsSeed()) {
        Entry e = seed.row(t, x);
        x++;
        advanceFree();
        return e;
      }
      return st.sorted.get(bi++);
    }

    void skip() {
      if (peekIsSeed()) {
        x++;
        advanceFree();
      } else {
        bi++;
      }
    }
  }

  /** One page of orders tombstones with updated_at > since. */
  Page tombstones(Table t, Long since, long page, int size) {
    lock.readLock().lock();
    try {
      List<Entry> tombs = states[t.id].tombstones;
      int from = since == null ? 0 : firstOverlayAfter(tombs, since);
      long k = offset(page, size);
      long total = tombs.size() - from;
      if (k >= total) {
        return new Page(List.of(), null);
      }
      int start = from + (int) k;
      int end = (int) Math.min(tombs.size(), (long) start + size);
      return new Page(new ArrayList<>(tombs.subList(start, end)), end < tombs.size() ? Long.valueOf(page + 1) : null);
    } finally {
      lock.readLock().unlock();
    }
  }

  boolean exists(Table t, String key) {
    lock.readLock().lock();
    try {
      return existsLocked(t, states[t.id], key);
    } finally {
      lock.readLock().unlock();
    }
  }

  private boolean existsLocked(Table t, State st, String key) {
    if (st.byKey.containsKey(key)) {
      return true;
    }
    long i = seed.indexOf(t, key);
    return i >= 0 && !st.overridden.contains(i);
  }

  // ---------------------------------------------------------------- writes

  /**
   * The next write stamp. Must be called with the write lock held, in the same critical section
   * that makes the write visible.
   *
   * <p>GUARANTEE (cursor order == visibility order): stamps strictly increase in lock order, and
   * a write becomes visible only when the write lock is released, so every write that becomes
   * visible after a reader's query has a cursor strictly greater than every written cursor that
   * query could have seen. A reader re-running the same query therefore never later finds a
   * written record below a cursor it already saw (seed rows are static and never move).
   */
  private long nextStamp() {
    long now = Timestamps.micros(clock.instant());
    long stamp = lastStamp == Long.MIN_VALUE ? now : Math.max(now, lastStamp + 1);
    lastStamp = stamp;
    return stamp;
  }

  /**
   * Insert (products, events: 409 if the key exists) or upsert (users, orders, metrics). The
   * record must come from {@link #validate}. Cursor tables get the write stamp as cursor.
   */
  Entry upsert(Table t, Map<String, Object> record) {
    String key = (String) record.get(t.pk);
    lock.writeLock().lock();
    try {
      State st = states[t.id];
      boolean insertOnly = t == Tables.PRODUCTS || t == Tables.EVENTS;
      if (insertOnly && existsLocked(t, st, key)) {
        throw new ApiError(409, t.pk + " " + key + " already exists in " + t.name
            + (t == Tables.EVENTS ? " (events are append-only)" : " (products are insert-only)"));
      }
      Map<String, Object> rec = new LinkedHashMap<>(record);
      long cursor = 0;
      if (t.cursor != null) {
        cursor = nextStamp();
        rec.put(t.cursor, Timestamps.format(cursor));
      }
      removeLocked(t, st, key);
      Entry e = new Entry(key, cursor, java.util.Collections.unmodifiableMap(rec));
      insertSorted(st.sorted, e);
      st.byKey.put(key, e);
      counted();
      return e;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Deletes an order; returns its tombstone. 404 if no such key. */
  Entry delete(Table t, String key) {
    lock.writeLock().lock();
    try {
      State st = states[t.id];
      if (!existsLocked(t, st, key)) {
        throw new ApiError(404, "no " + t.name + " record with " + t.pk + " " + key);
      }
      removeLocked(t, st, key);
      long stamp = nextStamp(); // same stamp source as upserts: see nextStamp()
      Map<String, Object> rec = new LinkedHashMap<>();
      for (Field f : t.fields) {
        rec.put(f.name, null);
      }
      rec.put(t.pk, key);
      rec.put(t.cursor, Timestamps.format(stamp));
      Entry tomb = new Entry(key, stamp, java.util.Collections.unmodifiableMap(rec));
      insertSorted(st.tombstones, tomb);
      counted();
      return tomb;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Hides the current version of key (overlay entry removed, seed row overridden). */
  private void removeLocked(Table t, State st, String key) {
    Entry old = st.byKey.remove(key);
    if (old != null) {
      int idx = binarySearch(st.sorted, old);
      if (idx >= 0) {
        st.sorted.remove(idx);
      }
    }
    long i = seed.indexOf(t, key);
    if (i >= 0) {
      st.overridden.add(i);
    }
  }

  private static int binarySearch(List<Entry> list, Entry e) {
    int lo = 0;
    int hi = list.size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = list.get(mid).compareTo(e);
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -(lo + 1);
  }

  private static void insertSorted(ArrayList<Entry> list, Entry e) {
    if (list.isEmpty() || list.get(list.size() - 1).compareTo(e) < 0) {
      list.add(e); // the common case: stamps increase
      return;
    }
    int idx = binarySearch(list, e);
    list.add(idx < 0 ? -(idx + 1) : idx, e);
  }

  // ---------------------------------------------------------------- validation

  /**
   * Validates a POST body against the table's columns (those added at run time too) and returns the full JSON-shaped record
   * (every column; missing nullable columns null). The cursor field in the body is ignored.
   */
  Map<String, Object> validate(Table t, JsonNode body) {
    List<Field> fields = fields(t);
    if (body == null || !body.isObject()) {
      throw new ApiError(400, "request body must be a JSON object");
    }
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (fields.stream().noneMatch(f -> f.name.equals(name))) {
        throw new ApiError(400, "unknown field '" + name + "' for table " + t.name);
      }
    }
    Map<String, Object> rec = new LinkedHashMap<>();
    for (Field f : fields) {
      if (f.name.equals(t.cursor)) {
        rec.put(f.name, null); // set by the server
        continue;
      }
      JsonNode v = body.get(f.name);
      if (f.name.equals(t.pk)) {
        if (v == null || v.isNull()) {
          throw new ApiError(400, "missing primary key field '" + f.name + "'");
        }
        if (!v.isTextual()) {
          throw new ApiError(400, "field '" + f.name + "' must be a string");
        }
        if (v.textValue().isEmpty()) {
          throw new ApiError(400, "field '" + f.name + "' must not be empty");
        }
      }
      rec.put(f.name, convert(f, v, f.name));
    }
    return rec;
  }

  private static Object convert(Field f, JsonNode v, String path) {
    if (v == null || v.isNull()) {
      if (!f.nullable) {
        throw new ApiError(400, "field '" + path + "' must not be null");
      }
      return null;
    }
    switch (f.type) {
      case "string":
        if (!v.isTextual()) {
          throw new ApiError(400, "field '" + path + "' must be a string");
        }
        return v.textValue();
      case "integer":
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
          throw new ApiError(400, "field '" + path + "' must be an integer (64-bit)");
        }
        return v.longValue();
      case "double":
        if (!v.isNumber()) {
          throw new ApiError(400, "field '" + path + "' must be a number");
        }
        double d = v.doubleValue();
        if (!Double.isFinite(d)) {
          throw new ApiError(400, "field '" + path + "' must be a finite number");
        }
        return d;
      case "timestamp":
        if (!v.isTextual()) {
          throw new ApiError(400, "field '" + path + "' must be an ISO-8601 timestamp string");
        }
        try {
          return Timestamps.format(Timestamps.parse(v.textValue()));
        } catch (IllegalArgumentException e) {
          throw new ApiError(400, "field '" + path + "' is not an ISO-8601 timestamp with offset");
        }
      case "struct": {
        if (!v.isObject()) {
          throw new ApiError(400, "field '" + path + "' must be an object");
        }
        for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
          String name = it.next();
          boolean known = false;
          for (Field s : f.fields) {
            known |= s.name.equals(name);
          }
          if (!known) {
            throw new ApiError(400, "unknown field '" + path + "." + name + "'");
          }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        for (Field s : f.fields) {
          m.put(s.name, convert(s, v.get(s.name), path + "." + s.name));
        }
        return m;
      }
      default:
        throw new ApiError(400, "field '" + path + "' has unsupported type " + f.type);
    }
  }

  /** A growable sorted set of longs with O(log n) rank. */
  static final class SortedLongs {
    private long[] a = new long[16];
    private int n;

    int size() {
      return n;
    }

    long get(int i) {
      return a[i];
    }

    /** Number of elements < x. */
    int lowerBound(long x) {
      int lo = 0;
      int hi = n;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (a[mid] < x) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    }

    boolean contains(long x) {
      int i = lowerBound(x);
      return i < n && a[i] == x;
    }

    void add(long x) {
      int i = lowerBound(x);
      if (i < n && a[i] == x) {
        return;
      }
      if (n == a.length) {
        a = Arrays.copyOf(a, n * 2);
      }
      System.arraycopy(a, i, a, i + 1, n - i);
      a[i] = x;
      n++;
    }
  }
}
