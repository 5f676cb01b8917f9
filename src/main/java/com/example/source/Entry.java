package com.example.source;

import java.util.Map;

/** A stored or generated record: its key, its cursor in epoch micros (0 for products) and the JSON-shaped record. */
final class Entry {
  final String key;
  final long cursor;
  final Map<String, Object> record;

  Entry(String key, long cursor, Map<String, Object> record) {
    this.key = key;
    this.cursor = cursor;
    this.record = record;
  }

  static int compare(long c1, String k1, long c2, String k2) {
    int c = Long.compare(c1, c2);
    return c != 0 ? c : k1.compareTo(k2);
  }

  int compareTo(Entry o) {
    return compare(cursor, key, o.cursor, o.key);
  }
}
