package com.example.connector.merge;

import com.example.connector.table.RowPosition;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * One key's merge: its history replayed ({@link KeyHistory}) and the result compared with its
 * committed rows. A committed row the result no longer holds is deleted by position, a row of the
 * result not committed is inserted, and a key whose rows did not change writes nothing.
 */
final class KeyReplay {
  private static final GenericData DATA = GenericData.get();

  private final KeyHistory history;
  private final Schema tableSchema;

  KeyReplay(MergeRule rule, Schema feedSchema, @Nullable Long snapshotAt, String table) {
    this.history = new KeyHistory(rule, feedSchema, snapshotAt, table);
    this.tableSchema = rule.tableSchema(feedSchema);
  }

  /**
   * @param committed the key's committed rows, located (with file and position)
   * @param changes the key's changes, in the change feed schema
   */
  void replay(List<GenericRecord> committed, List<GenericRecord> changes,
      Consumer<GenericRecord> inserts, Consumer<RowPosition> deletes) {
    List<GenericRecord> remaining = new ArrayList<>(committed);
    for (GenericRecord row : history.merge(committed, changes)) {
      int same = indexOfSame(remaining, row);
      if (same >= 0) {
        remaining.remove(same);
      } else {
        inserts.accept(asTableRow(row));
      }
    }
    for (GenericRecord gone : remaining) {
      deletes.accept(new RowPosition(gone.get(MergeChanges.FILE).toString(), (Long) gone.get(MergeChanges.POSITION)));
    }
  }

  /** A committed row the history kept comes back as itself (the only way a projected one can). */
  private int indexOfSame(List<GenericRecord> rows, GenericRecord row) {
    for (int i = 0; i < rows.size(); i++) {
      if (rows.get(i) == row || sameRow(rows.get(i), row)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Whether a committed row holds the same values as a row of the result. One read with only its
   * key and sequence ({@link MergeChanges#locatedSchema}) is not known to: it is replaced.
   */
  private boolean sameRow(GenericRecord committed, GenericRecord row) {
    for (Schema.Field f : tableSchema.getFields()) {
      if (committed.getSchema().getField(f.name()) == null
          || DATA.compare(committed.get(f.name()), row.get(f.name()), f.schema()) != 0) {
        return false;
      }
    }
    return true;
  }

  private GenericRecord asTableRow(GenericRecord row) {
    GenericRecord out = new GenericData.Record(tableSchema);
    for (Schema.Field f : tableSchema.getFields()) {
      out.put(f.pos(), row.get(f.name()));
    }
    return out;
  }
}
