package com.example.source;

import com.example.source.Tables.Field;
import com.example.source.Tables.Table;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The seed data set, generated on demand: row {@code i} of a table is a pure function of
 * (seed, table, i, null rate, base time, ties). Nothing is materialized.
 *
 * <p>Rows of every table are sorted by (cursor, primary key) in index order: the cursor is
 * {@code base + floor(i / ties) * step} (monotone in i) and keys are zero-padded to a fixed width
 * (events: a UUID whose last group is i in 12 hex digits), so string order equals index order.
 */
final class SeedData {
  private static final String[] CATEGORIES = {"electronics", "books", "clothing"};
  private static final String[] EVENT_TYPES = {"click", "view", "purchase"};
  private static final String[] ORDER_STATUS = {"pending", "shipped", "delivered"};
  private static final String[] METRIC_NAMES = {"cpu", "mem", "disk", "net"};
  private static final String[] LABELS = {"low", "medium", "high", "critical"};
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  final long seed;
  final double nullRate;
  final long baseMicros;
  final int ties;
  private final long[] rows = new long[Tables.ALL.size()];
  private final int[] width = new int[Tables.ALL.size()];

  SeedData(long seed, double nullRate, long baseMicros, int ties, Map<String, Long> rowCounts) {
    if (!(nullRate >= 0.0 && nullRate <= 1.0)) {
      throw new IllegalArgumentException("null rate must be in [0, 1]");
    }
    if (ties < 1) {
      throw new IllegalArgumentException("ties must be >= 1");
    }
    this.seed = seed;
    this.nullRate = nullRate;
    this.baseMicros = baseMicros;
    this.ties = ties;
    for (Table t : Tables.ALL) {
      Long n = rowCounts.get(t.name);
      long count = n == null ? t.defaultRows : n;
      if (count < 0 || count > 1_000_000_000_000L) {
        throw new IllegalArgumentException("bad row count for " + t.name + ": " + count);
      }
      rows[t.id] = count;
      width[t.id] = Math.max(4, Long.toString(Math.max(0, count - 1)).length());
    }
  }

  long count(Table t) {
    return rows[t.id];
  }

  String key(Table t, long i) {
    if (t.keyPrefix == null) {
      char[] c = "00000000-0000-4000-8000-000000000000".toCharArray();
      long v = i;
      for (int p = c.length - 1; p >= c.length - 12; p--) {
        c[p] = HEX[(int) (v & 15)];
        v >>>= 4;
      }
      return new String(c);
    }
    String digits = Long.toString(i);
    StringBuilder sb = new StringBuilder(t.keyPrefix.length() + width[t.id]).append(t.keyPrefix);
    for (int p = digits.length(); p < width[t.id]; p++) {
      sb.append('0');
    }
    return sb.append(digits).toString();
  }

  /** The seed index whose key is exactly {@code key}, or -1 if it is not a seed key. */
  long indexOf(Table t, String key) {
    long i;
    if (t.keyPrefix == null) {
      if (key.length() != 36 || !key.startsWith("00000000-0000-4000-8000-")) {
        return -1;
      }
      i = 0;
      for (int p = 24; p < 36; p++) {
        int d = Character.digit(key.charAt(p), 16);
        if (d < 0 || Character.isUpperCase(key.charAt(p))) {
          return -1;
        }
        i = (i << 4) | d;
      }
    } else {
      if (!key.startsWith(t.keyPrefix) || key.length() != t.keyPrefix.length() + width[t.id]) {
        return -1;
      }
      i = 0;
      for (int p = t.keyPrefix.length(); p < key.length(); p++) {
        char ch = key.charAt(p);
        if (ch < '0' || ch > '9') {
          return -1;
        }
        i = i * 10 + (ch - '0');
      }
    }
    return i < rows[t.id] ? i : -1;
  }

  /** Cursor of row i in epoch micros; 0 for products (sorted by key only). */
  long cursor(Table t, long i) {
    return t.cursor == null ? 0 : baseMicros + (i / ties) * t.stepMicros;
  }

  /** First seed index whose cursor is strictly greater than {@code micros} (count if none). */
  long firstIndexAfter(Table t, long micros) {
    long n = rows[t.id];
    if (micros < baseMicros) {
      return 0;
    }
    long d = micros - baseMicros; // >= 0, no overflow thanks to clamping in Timestamps
    long group = d / t.stepMicros + 1;
    long maxGroup = n / ties + 1;
    if (group > maxGroup) {
      return n;
    }
    return Math.min(n, group * ties);
  }

  private boolean isNull(Table t, long i, int fieldNo) {
    if (nullRate <= 0) {
      return false;
    }
    long h = mix(seed ^ mix(t.id * 0x9E3779B97F4A7C15L + fieldNo) ^ mix(i + 0x632BE59BD9B4E019L));
    double u = (h >>> 11) * 0x1.0p-53;
    return u < nullRate;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private static double round2(double v) {
    return Math.round(v * 100.0) / 100.0;
  }

  /** One column of row i (JSON-shaped: timestamps as ISO strings, structs as maps). */
  Object value(Table t, long i, int fieldNo) {
    Field f = t.fields.get(fieldNo);
    if (f.name.equals(t.pk)) {
      return key(t, i);
    }
    if (f.name.equals(t.cursor)) {
      return Timestamps.format(cursor(t, i));
    }
    if (f.nullable && isNull(t, i, fieldNo)) {
      return null;
    }
    int m3 = (int) (i % 3);
    switch (t.name + "." + f.name) {
      case "products.name": return "Product " + i;
      case "products.price": return 10.0 + 1.5 * i;
      case "products.category": return CATEGORIES[m3];
      case "events.event_type": return EVENT_TYPES[m3];
      case "events.user_id": return "user_00" + (i % 5);
      case "events.payload": return "{\"seq\": " + i + "}";
      case "users.email": return "user" + i + "@example.com";
      case "users.display_name": return "User " + i;
      case "users.status": return "active";
      case "orders.user_id": return String.format("user_%04d", i % 10);
      case "orders.amount": return round2(50.0 + 3.3 * i);
      case "orders.status": return ORDER_STATUS[m3];
      case "metrics.name": return "metric." + METRIC_NAMES[(int) (i % 4)];
      case "metrics.host": return "host-" + m3;
      case "metrics.value": {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("count", isNull(t, i, 100) ? null : i);
        v.put("label", isNull(t, i, 101) ? null : LABELS[(int) (i % 4)]);
        v.put("measure", isNull(t, i, 102) ? null : round2(1.1 * i));
        return v;
      }
      default: throw new IllegalStateException("no generator for " + t.name + "." + f.name);
    }
  }

  Entry row(Table t, long i) {
    Map<String, Object> rec = new LinkedHashMap<>();
    for (int f = 0; f < t.fields.size(); f++) {
      rec.put(t.fields.get(f).name, value(t, i, f));
    }
    return new Entry(key(t, i), cursor(t, i), rec);
  }
}
