package com.example.connector.merge;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.ScdType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Merges one key's committed rows with the changes a run read for it, by replaying the key's
 * history in sequence order.
 *
 * <p>The committed rows are turned back into the events that made them (an SCD type 1 row is an
 * upsert at its sequence; an SCD type 2 version is an upsert at its {@code __START_AT}, and a
 * delete at its {@code __END_AT} when no version that outlasts its start starts there), the run's
 * changes are added, and the whole is sorted by sequence, never by arrival: so a late-arriving
 * older version lands in its place in the history instead of overwriting a newer one, and a
 * delete followed by a re-insert keeps the key. Only equal sequences fall back on arrival:
 * committed events first, then the run's, an upsert before a delete, and rows by content so that
 * the result is deterministic.
 */
final class KeyHistory {
  private static final GenericData DATA = GenericData.get();

  private final MergeRule rule;
  /** The table's key, for errors. */
  private final String table;
  private final Schema tableSchema;
  /** The source's columns: what a version holds and what decides whether two are the same. */
  private final Schema valuesSchema;
  private final Schema sequenceSchema;
  /** The sequence of this run's snapshot (microseconds), for a snapshot table. */
  private final @Nullable Long snapshotAt;
  private final Comparator<Event> order;

  KeyHistory(MergeRule rule, Schema feedSchema, @Nullable Long snapshotAt, String table) {
    this.rule = rule;
    this.table = table;
    this.tableSchema = rule.tableSchema(feedSchema);
    this.valuesSchema = MergeRule.sourceColumns(feedSchema);
    this.sequenceSchema = rule.sequenceSchema(feedSchema);
    this.snapshotAt = snapshotAt;
    this.order =
        Comparator.<Event, Object>comparing(Event::sequence, (a, b) -> DATA.compare(a, b, sequenceSchema))
            .thenComparingInt(Event::arrival)
            .thenComparing(Event::delete)
            // Equal arrivals are both committed rows or both the run's: rows of one schema.
            .thenComparing(Event::values, Comparator.nullsFirst((a, b) -> DATA.compare(a, b, a.getSchema())));
  }

  /**
   * The key's rows in the new table.
   *
   * @param committed the key's rows in the committed table (table schema)
   * @param changes the key's rows read by this run (change feed schema)
   */
  List<GenericRecord> merge(Iterable<GenericRecord> committed, Iterable<GenericRecord> changes) {
    List<Event> events = rule.scdType() == ScdType.SCD_TYPE_2 ? fromVersions(committed) : fromRows(committed);
    boolean read = false;
    for (GenericRecord change : changes) {
      read = true;
      Object sequence = rule.snapshot() ? snapshotAt : change.get(rule.sequenceBy());
      boolean delete = Boolean.TRUE.equals(change.get(RecordSchemas.IS_DELETED));
      events.add(new Event(sequence, Integer.MAX_VALUE, delete, delete ? null : values(change)));
    }
    if (rule.snapshot() && !read) {
      // A complete snapshot without the key: it was deleted.
      events.add(new Event(snapshotAt, Integer.MAX_VALUE, true, null));
    }
    events.sort(order);
    return rule.scdType() == ScdType.SCD_TYPE_2 ? versions(events) : latest(events);
  }

  private List<Event> fromRows(Iterable<GenericRecord> committed) {
    List<Event> events = new ArrayList<>();
    for (GenericRecord row : committed) {
      // A snapshot table's rows carry no sequence: the new snapshot outranks them all.
      events.add(new Event(rule.sequenceBy() == null ? null : row.get(rule.sequenceBy()), 0, false, row));
    }
    return events;
  }

  /**
   * Sorts the versions once and notes the sequences where a version starts that stays open past
   * its start, so that telling a version closed by its successor from one closed by a delete is a
   * lookup, not a scan of the key. Versions that open and close at one sequence (several of one
   * sequence, or one and a delete) never succeed the last of them: where only such versions start,
   * that last one was closed by a delete, which a later run's older or newer version must not undo.
   */
  private List<Event> fromVersions(Iterable<GenericRecord> committed) {
    List<GenericRecord> versions = new ArrayList<>();
    committed.forEach(versions::add);
    Comparator<Object> bySequence = (a, b) -> DATA.compare(a, b, sequenceSchema);
    versions.sort(
        Comparator.<GenericRecord, Object>comparing(v -> v.get(MergeRule.START_AT), bySequence)
            .thenComparing(v -> v.get(MergeRule.END_AT), Comparator.nullsLast(bySequence)));
    Set<Object> lastingStarts = new TreeSet<>(bySequence);
    for (GenericRecord v : versions) {
      Object end = v.get(MergeRule.END_AT);
      if (end == null || bySequence.compare(v.get(MergeRule.START_AT), end) != 0) {
        lastingStarts.add(v.get(MergeRule.START_AT));
      }
    }
    List<Event> events = new ArrayList<>();
    for (GenericRecord version : versions) {
      Object end = version.get(MergeRule.END_AT);
      events.add(new Event(version.get(MergeRule.START_AT), events.size(), false, values(version)));
      if (end != null && !lastingStarts.contains(end)) {
        events.add(new Event(end, events.size(), true, null));
      }
    }
    return events;
  }

  /** SCD type 1: the last event decides. */
  private static List<GenericRecord> latest(List<Event> events) {
    Event last = events.get(events.size() - 1);
    return last.delete() ? List.of() : List.of(last.values());
  }

  /**
   * SCD type 2: each upsert that changes the row opens a version and closes the open one. Only a
   * change this run read can be the open row again: committed versions were kept apart when they
   * were made, and versions of one sequence come back in the order the table is read (which a
   * compaction changes), so two equal ones of them, one the other's successor, may now be adjacent.
   */
  private List<GenericRecord> versions(List<Event> events) {
    List<GenericRecord> out = new ArrayList<>();
    Event open = null;
    for (Event e : events) {
      if (open != null && e.read() && !e.delete() && DATA.compare(open.values(), e.values(), valuesSchema) == 0) {
        continue; // the same row again (a re-read, or an unchanged row in a snapshot)
      }
      if (open != null) {
        checkClosable(e);
        out.add(version(open, e.sequence()));
      }
      open = e.delete() ? null : e;
    }
    if (open != null) {
      out.add(version(open, null));
    }
    return out;
  }

  /**
   * Fails the table on a version that would be closed without a sequence value (null sorts first,
   * so only a version without one can be): its null {@code __END_AT} would mark it current beside
   * the key's current version.
   */
  private void checkClosable(Event closing) {
    if (closing.sequence() == null) {
      throw new IllegalStateException("table " + table + ": sequence_by column '" + rule.sequenceBy()
          + "' is null in two versions of a key (or a version and its delete): the first could only be closed at a"
          + " null " + MergeRule.END_AT + ", which marks the current version. Order the table by a column that"
          + " always has a value (table_configuration.sequence_by, in a new destination: a table keeps its own)");
    }
  }

  private GenericRecord version(Event start, @Nullable Object end) {
    GenericRecord row = new GenericData.Record(tableSchema);
    for (Schema.Field f : valuesSchema.getFields()) {
      row.put(f.name(), start.values().get(f.name()));
    }
    row.put(MergeRule.START_AT, start.sequence());
    row.put(MergeRule.END_AT, end);
    return row;
  }

  /** The source's columns of a feed row or table row. */
  private GenericRecord values(GenericRecord row) {
    GenericRecord values = new GenericData.Record(valuesSchema);
    for (Schema.Field f : valuesSchema.getFields()) {
      values.put(f.name(), row.get(f.name()));
    }
    return values;
  }

  /**
   * One step of a key's history.
   *
   * @param arrival the committed history's own order, or {@link Integer#MAX_VALUE} for this run's
   * @param values the row's source columns; null for a delete
   */
  private record Event(Object sequence, int arrival, boolean delete, @Nullable GenericRecord values) {
    /** Whether this run read it, rather than the committed history holding it. */
    boolean read() {
      return arrival == Integer.MAX_VALUE;
    }
  }
}
