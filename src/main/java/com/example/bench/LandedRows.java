package com.example.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;

/**
 * What a benchmark's run left in a table, read back with Iceberg's generic reader (deletes
 * applied), not taken from the connector's counters or the snapshot's summary: a run that lost,
 * doubled or misapplied rows fails the benchmark instead of scoring a time.
 */
final class LandedRows {
  private LandedRows() {}

  /** Each key's values of {@code column} (the key itself, for a count), one per row holding the key. */
  static Map<String, List<String>> byKey(Table table, String key, String column) {
    Map<String, List<String>> rows = new HashMap<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).select(key, column).build()) {
      records.forEach(r -> rows.computeIfAbsent(String.valueOf(r.getField(key)), k -> new ArrayList<>())
          .add(String.valueOf(r.getField(column))));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  /** Null if {@code rows} hold {@code keys} keys, each in one row; else what is wrong, naming {@code table}. */
  static String wrongKeys(String table, Map<String, List<String>> rows, long keys) {
    long total = rows.values().stream().mapToLong(List::size).sum();
    List<String> twice = rows.entrySet().stream().filter(e -> e.getValue().size() > 1).map(Map.Entry::getKey)
        .sorted().limit(3).toList();
    if (rows.size() == keys && twice.isEmpty()) {
      return null;
    }
    return table + ": " + total + " rows of " + rows.size() + " keys, where the source has " + keys + " keys"
        + (twice.isEmpty() ? "" : "; in more than one row: " + twice);
  }
}
