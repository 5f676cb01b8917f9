package com.example.connector.read;

import com.example.connector.catalog.RecordSchemas;
import java.io.Serializable;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One cursor-ordered feed to read in this run: a table's records, or orders' tombstones.
 *
 * <p>Cursors are microseconds since the epoch, UTC. The run reads every record whose cursor is in
 * {@code [fromMicros, capMicros)}. {@code fromMicros} is the cursor committed by the previous run
 * (which read everything below it); null on a first run, when the read starts at
 * {@code startMicros} if set, else at the feed's oldest record.
 *
 * @param table the source table
 * @param tombstones true for {@code deleted_records}, false for {@code records}
 * @param params source-side parameters sent with every call ({@code limit}, filters)
 * @param operation what each row is, for the {@code _operation} column
 * @param windowMicros the time window per call, for windowed reads; null otherwise
 */
public record CursorFeed(
    String table,
    boolean tombstones,
    Map<String, String> params,
    @Nullable Long fromMicros,
    @Nullable Long startMicros,
    long capMicros,
    int maxRecordsPerBatch,
    String operation,
    @Nullable Long windowMicros)
    implements Serializable {

  public CursorFeed {
    params = Map.copyOf(params);
  }

  /**
   * Where a continuous read starts: the committed cursor, else {@code start_timestamp}, else the
   * epoch (the source has no records before it; an empty stretch costs a call or two).
   */
  public long continuousFrom() {
    return fromMicros != null ? fromMicros : startMicros != null ? startMicros : 0L;
  }

  /** The feed's name in state and metrics: {@code records} or {@code deleted_records}. */
  public String feedName() {
    return feedName(tombstones);
  }

  /**
   * Whether a destination row is at or above its feed's cursor in {@code cursors} (by feed name):
   * one a table holding those cursors does not hold yet. Rows without a cursor always are.
   */
  public static boolean notYetIn(GenericRecord row, String cursorField, Map<String, Long> cursors) {
    Long from = cursors.get(feedName(Boolean.TRUE.equals(row.get(RecordSchemas.IS_DELETED))));
    Object cursor = row.get(cursorField);
    return from == null || cursor == null || (Long) cursor >= from;
  }

  /** The name of the records feed, or of the tombstones feed. */
  public static String feedName(boolean tombstones) {
    return tombstones ? "deleted_records" : "records";
  }
}
