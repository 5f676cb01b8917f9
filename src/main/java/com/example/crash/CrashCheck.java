package com.example.crash;

import com.example.connector.merge.MergeRule;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;

/**
 * The crash trials' check of the tables against what the source holds and what it answered the
 * writes ({@link CrashTraffic}): the source read over plain HTTP and the tables with Iceberg's
 * generic reader, neither through the connector. {@code users} and {@code orders} (SCD type 1)
 * equal the source's rows column by column; {@code events} (append) holds each source event
 * once; {@code users_history} (SCD type 2, when the trials land it) holds every version of each
 * user, open from its {@code updated_at} until the next one's; a change feed holds the latest
 * version of every key (a row, or the tombstone of an order deleted) and no row twice (same key,
 * cursor and {@code _operation}). Lost is an expected row missing, extra a row beyond the expected
 * ones (a copy, a stale version, a deleted order).
 */
public final class CrashCheck {
  static final String HISTORY = "users_history";
  private static final Map<String, String> KEYS = Map.of("users", "user_id", "orders", "order_id");

  /** A table checked, with a few of the rows that differ. */
  record Check(String table, long expected, long found, long lost, long extra, List<String> examples) {
    boolean ok() {
      return lost == 0 && extra == 0;
    }
  }

  /** Per table, its expected rows rendered (a change feed: each key's latest change). */
  private final Map<String, List<String>> expected = new TreeMap<>();

  /**
   * The expected state, from the source as it is now (nothing may write) and the traffic's record.
   *
   * @param history whether the trials land {@value #HISTORY}
   */
  CrashCheck(SourceHttp source, CrashTraffic traffic, boolean history) {
    for (String table : List.of("users", "orders", "events")) {
      Map<String, String> types = source.columnTypes(table);
      List<ObjectNode> rows = source.rows(table);
      expected.put(table, rows.stream().map(r -> render(r, types)).sorted().toList());
      if (table.equals("events")) {
        continue;
      }
      List<String> latest = new ArrayList<>(rows.stream()
          .map(r -> change(r.get(KEYS.get(table)).asText(), micros(r.get("updated_at")), "upsert")).toList());
      if (table.equals("orders")) {
        traffic.tombstones().forEach((key, t) -> latest.add(change(key, micros(t.get("updated_at")), "delete")));
      }
      expected.put(table + "__changes", latest.stream().sorted().toList());
      if (table.equals("users") && history) {
        expected.put(HISTORY, versions(traffic.userVersions(), types));
        expected.put(HISTORY + "__changes", expected.get("users__changes"));
      }
    }
  }

  /** Every table checked against the expected state. */
  List<Check> against(Catalog catalog) {
    List<Check> checks = new ArrayList<>();
    expected.forEach((name, rows) -> {
      Table table = catalog.loadTable(TableIdentifier.of("main", "example", name));
      checks.add(name.endsWith("__changes") ? feed(name, table, rows) : compare(name, rows, rendered(table)));
    });
    return checks;
  }

  static boolean allOk(List<Check> checks) {
    return checks.stream().allMatch(Check::ok);
  }

  /** The checks as a table, each with its examples of rows that differ. */
  static void print(List<Check> checks, PrintStream out) {
    String format = "%-24s %10s %10s %6s %15s%n";
    out.printf(format, "table", "expected", "found", "lost", "doubled/extra");
    for (Check c : checks) {
      out.printf(format, c.table(), String.format("%,d", c.expected()), String.format("%,d", c.found()), c.lost(), c.extra());
      c.examples().forEach(e -> out.println("  " + e));
    }
  }

  /**
   * SCD type 2 as the writes say: every version of each key, open from its {@code updated_at}
   * until the next version's (users are never deleted).
   */
  private static List<String> versions(Map<String, List<ObjectNode>> byKey, Map<String, String> types) {
    List<String> out = new ArrayList<>();
    byKey.values().forEach(versions -> {
      List<ObjectNode> sorted = new ArrayList<>(versions);
      sorted.sort((a, b) -> Long.compare(micros(a.get("updated_at")), micros(b.get("updated_at"))));
      for (int i = 0; i < sorted.size(); i++) {
        Long end = i + 1 < sorted.size() ? micros(sorted.get(i + 1).get("updated_at")) : null;
        out.add(render(sorted.get(i), types) + "[" + micros(sorted.get(i).get("updated_at")) + "," + end + ")");
      }
    });
    out.sort(null);
    return out;
  }

  /** A change feed: each expected change present, and no change twice. */
  private static Check feed(String name, Table feed, List<String> latest) {
    String key = KEYS.get(name.startsWith("orders") ? "orders" : "users");
    List<String> rows = read(feed).stream().map(r -> change(String.valueOf(r.getField(key)),
        micros((OffsetDateTime) r.getField("updated_at")), String.valueOf(r.getField("_operation")))).toList();
    Set<String> distinct = new HashSet<>(rows);
    List<String> lost = latest.stream().filter(c -> !distinct.contains(c)).toList();
    List<String> examples = new ArrayList<>(lost.stream().limit(3).map(c -> "lost " + c).toList());
    Set<String> seen = new HashSet<>();
    rows.stream().filter(c -> !seen.add(c)).limit(3).forEach(c -> examples.add("twice " + c));
    return new Check(name, latest.size(), rows.size(), lost.size(), rows.size() - distinct.size(), examples);
  }

  private static String change(String key, long cursorMicros, String operation) {
    return key + "@" + cursorMicros + "/" + operation;
  }

  /** Lost: expected rows the table lacks; extra: the table's rows beyond the expected ones (copies included). */
  private static Check compare(String table, List<String> expected, List<String> found) {
    Map<String, Integer> balance = new HashMap<>();
    expected.forEach(r -> balance.merge(r, 1, Integer::sum));
    found.forEach(r -> balance.merge(r, -1, Integer::sum));
    List<String> examples = balance.entrySet().stream().filter(e -> e.getValue() != 0).limit(3)
        .map(e -> (e.getValue() > 0 ? "lost " : "extra ") + e.getKey()).toList();
    return new Check(table, expected.size(), found.size(), balance.values().stream().filter(n -> n > 0).mapToLong(n -> n).sum(),
        -balance.values().stream().filter(n -> n < 0).mapToLong(n -> n).sum(), examples);
  }

  /** Every live row of a table's current snapshot, with Iceberg's generic reader (deletes applied). */
  public static List<Record> read(Table table) {
    List<Record> rows = new ArrayList<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      records.forEach(rows::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  /**
   * A table's rows rendered as {@link #render(ObjectNode, Map)} renders the source's, from its
   * columns but the connector's own ({@code _}...); an SCD type 2 version with its validity,
   * {@code [start,end)} in microseconds.
   */
  private static List<String> rendered(Table table) {
    List<Types.NestedField> columns = table.schema().columns().stream().filter(c -> !c.name().startsWith("_")).toList();
    boolean versioned = table.schema().findField(MergeRule.START_AT) != null;
    List<String> out = new ArrayList<>();
    for (Record r : read(table)) {
      Map<String, String> values = new TreeMap<>();
      columns.forEach(c -> values.put(c.name(), value(r.getField(c.name()))));
      String row = values.toString();
      if (versioned) {
        row += "[" + value(r.getField(MergeRule.START_AT)) + ","
            + value(r.getField(MergeRule.END_AT)) + ")";
      }
      out.add(row);
    }
    out.sort(null);
    return out;
  }

  /** A source row by column name: timestamps (as the source's schema types them) in microseconds, numbers as doubles. */
  private static String render(ObjectNode row, Map<String, String> types) {
    Map<String, String> values = new TreeMap<>();
    row.fields().forEachRemaining(f -> {
      JsonNode v = f.getValue();
      values.put(f.getKey(), v.isNull() ? "null" : "timestamp".equals(types.get(f.getKey())) ? Long.toString(micros(v))
          : v.isNumber() ? Double.toString(v.asDouble()) : v.asText());
    });
    return values.toString();
  }

  private static String value(Object v) {
    return v == null ? "null" : v instanceof OffsetDateTime t ? Long.toString(micros(t))
        : v instanceof Number n ? Double.toString(n.doubleValue()) : v.toString();
  }

  /** An ISO-8601 timestamp of the source, in microseconds since the epoch. */
  static long micros(JsonNode timestamp) {
    return micros(timestamp.asText());
  }

  /** An ISO-8601 timestamp with an offset, in microseconds since the epoch. */
  static long micros(String timestamp) {
    return micros(OffsetDateTime.parse(timestamp));
  }

  private static long micros(OffsetDateTime t) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, t.toInstant());
  }
}
