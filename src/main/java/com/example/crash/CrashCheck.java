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
import java.util.Comparator;
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
 * version of every key (a row, or the tombstone of an order deleted), with {@code users_history}
 * every version of each user (every one was read), and only versions the source had, column by
 * column, each once. Lost is an expected row missing, extra a row beyond the expected ones (a
 * copy, a stale version, a deleted order, a feed row no version of the source had).
 */
public final class CrashCheck {
  static final String HISTORY = "users_history";

  /** A table checked, with a few of the rows that differ. */
  record Check(String table, long expected, long found, long lost, long extra, List<String> examples) {
    boolean ok() {
      return lost == 0 && extra == 0;
    }
  }

  /** Per table, its expected rows rendered. */
  private final Map<String, List<String>> expected = new TreeMap<>();

  /**
   * A change feed's expected rows: those it must hold, and every version it may hold, each
   * rendered with its {@code _operation}.
   */
  private record Feed(List<String> required, Set<String> known) {}

  /** Per change feed, what it must and may hold. */
  private final Map<String, Feed> feeds = new TreeMap<>();

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
      // Not only each key's latest change: a feed row the source never had (a wrong value) is extra too.
      Map<String, List<ObjectNode>> versions = table.equals("users") ? traffic.userVersions() : traffic.orderVersions();
      Set<String> known = new HashSet<>();
      versions.values().forEach(vs -> vs.forEach(v -> known.add(change(v, types, "upsert"))));
      List<String> latest = new ArrayList<>(rows.stream().map(r -> change(r, types, "upsert")).toList());
      if (table.equals("orders")) {
        traffic.tombstones().values().forEach(t -> latest.add(change(t, types, "delete")));
        traffic.tombstones().values().forEach(t -> known.add(change(t, types, "delete")));
      }
      feeds.put(table + "__changes", new Feed(latest.stream().sorted().toList(), known));
      if (table.equals("users") && history) {
        expected.put(HISTORY, versions(traffic.userVersions(), types));
        // Every version was read (the seed before any write, each user written once): each feed holds them all.
        Feed all = new Feed(known.stream().sorted().toList(), known);
        feeds.put("users__changes", all);
        feeds.put(HISTORY + "__changes", all);
      }
    }
  }

  /** Every table checked against the expected state. */
  List<Check> against(Catalog catalog) {
    List<Check> checks = new ArrayList<>();
    expected.forEach((name, rows) -> checks.add(compare(name, rows, rendered(load(catalog, name), false))));
    feeds.forEach((name, feed) -> checks.add(feed(name, rendered(load(catalog, name), true), feed)));
    checks.sort(Comparator.comparing(Check::table)); // each feed beside its table
    return checks;
  }

  private static Table load(Catalog catalog, String name) {
    return catalog.loadTable(TableIdentifier.of("main", "example", name));
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

  /** A change feed: each required change present, no change twice, and none the source never had. */
  private static Check feed(String name, List<String> rows, Feed expected) {
    Set<String> distinct = new HashSet<>(rows);
    List<String> lost = expected.required().stream().filter(c -> !distinct.contains(c)).toList();
    List<String> unknown = distinct.stream().filter(c -> !expected.known().contains(c)).sorted().toList();
    List<String> examples = new ArrayList<>(lost.stream().limit(3).map(c -> "lost " + c).toList());
    Set<String> seen = new HashSet<>();
    rows.stream().filter(c -> !seen.add(c)).limit(3).forEach(c -> examples.add("twice " + c));
    unknown.stream().limit(3).forEach(c -> examples.add("never in the source " + c));
    return new Check(name, expected.required().size(), rows.size(), lost.size(),
        rows.size() - distinct.size() + unknown.size(), examples);
  }

  /** A version of a source row as a change feed row of it renders. */
  private static String change(ObjectNode version, Map<String, String> types, String operation) {
    return render(version, types) + "/" + operation;
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
   * {@code [start,end)} in microseconds; a change feed's row with its {@code _operation}.
   */
  private static List<String> rendered(Table table, boolean feed) {
    List<Types.NestedField> columns = table.schema().columns().stream().filter(c -> !c.name().startsWith("_")).toList();
    boolean versioned = table.schema().findField(MergeRule.START_AT) != null;
    List<String> out = new ArrayList<>();
    for (Record r : read(table)) {
      Map<String, String> values = new TreeMap<>();
      columns.forEach(c -> values.put(c.name(), value(r.getField(c.name()))));
      String row = values.toString();
      if (feed) {
        row += "/" + r.getField("_operation");
      } else if (versioned) {
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
