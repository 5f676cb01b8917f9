package com.example.connector.read;

import com.example.connector.catalog.RecordSchemas;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;

/**
 * What the three read DoFns share: a client per DoFn instance and the counting of its calls,
 * threads to make calls side by side ({@link SourceCallsFn}), ranges read side by side in lanes
 * that checkpoint every {@value #CHECKPOINT_AFTER_SECONDS} s ({@link Lanes}, {@link
 * LaneSetTracker}), the conversion of source records to destination rows, and the
 * per-table counters {@code records} and {@code deletes} in the destination table's metrics
 * namespace. Pages are requested, and counted, through a {@link PageFetcher}.
 *
 * <p>Rows leave in batches: immutable lists of at most {@code max_records_per_batch} rows (a cursor
 * feed's option) or {@value #CHUNK_ROWS} (a snapshot's), flushed when that many are pending, before
 * the next request and before {@code @ProcessElement} returns ({@link Rows}), and {@link ReadRows}
 * hands them on one by one: see there why. Each read declares its own restriction, tracker and
 * restriction coder.
 */
// Public: a package-private base would make javac add bridge methods with raw return types to the
// public DoFns, which Beam's signature checks reject.
public abstract class SourceReadFn<ElementT> extends SourceCallsFn<ElementT, List<GenericRecord>> {
  /**
   * The most rows one output holds: large enough that runners pay per output rarely (see
   * {@link ReadRows}), small enough that a huge page never sits in memory as rows.
   */
  static final int CHUNK_ROWS = 1_000;
  /**
   * How long a read's lanes read before it checkpoints ({@link Lanes}): rarely enough that
   * draining the lanes costs little (one call's wait in that time), often enough for a live
   * progress line.
   */
  static final int CHECKPOINT_AFTER_SECONDS = 5;

  protected final Counter records;
  protected final Counter deletes;
  protected final Counter pages;

  private transient Schema rowSchema;
  private transient UnplannedColumns unplanned;
  private Duration checkpointAfter = Duration.ofSeconds(CHECKPOINT_AFTER_SECONDS);

  protected SourceReadFn(ReadContext context) {
    super(context, "source calls");
    this.records = Metrics.counter(context.metricsNamespace(), "records");
    this.deletes = Metrics.counter(context.metricsNamespace(), "deletes");
    this.pages = calls.pages();
  }

  @Override
  @Setup
  public void setup() {
    super.setup();
    rowSchema = new Schema.Parser().parse(context.rowSchemaJson());
    unplanned = new UnplannedColumns(context.table(), client);
  }

  /** Checkpoints after {@code interval} of reading instead (tests: many checkpoints in a small read). */
  void checkpointingAfter(Duration interval) {
    this.checkpointAfter = interval;
  }

  /** A tracker of ranges read side by side, each range tracked by {@code newTracker}. */
  protected <R, P> LaneSetTracker<R, P> laneTracker(
      LaneSet<R> restriction, Function<R, ? extends RestrictionTracker<R, P>> newTracker) {
    return new LaneSetTracker<>(restriction, newTracker, checkpointAfter);
  }

  /** Ranges of one kind read side by side on this instance's threads. */
  protected <R, P> Lanes<R, P> lanes(Lanes.Ranges<R, P> ranges) {
    unplanned.newRead(); // once per call: the schema may declare a field it did not before
    return new Lanes<>(ranges, parallel, checkpointAfter);
  }

  /** Rows of one {@code @ProcessElement} call, converted as they come and output in batches of {@code batchRows}. */
  protected Rows rows(OutputReceiver<List<GenericRecord>> out, String operation, int batchRows) {
    return new Rows(out, operation, batchRows(batchRows));
  }

  /** The rows of one output: a batch of {@code maxRecordsPerBatch}, at most {@value #CHUNK_ROWS}. */
  static int batchRows(int maxRecordsPerBatch) {
    return Math.min(maxRecordsPerBatch, CHUNK_ROWS);
  }

  /** Collects rows and outputs them as one element per chunk. */
  protected final class Rows implements CursorGroupReader.Sink<GenericRecord> {
    private final OutputReceiver<List<GenericRecord>> out;
    private final String operation;
    private final int batchRows;
    private List<GenericRecord> pending = new ArrayList<>();

    private Rows(OutputReceiver<List<GenericRecord>> out, String operation, int batchRows) {
      this.out = out;
      this.operation = operation;
      this.batchRows = batchRows;
    }

    @Override
    public GenericRecord convert(ObjectNode record) {
      return RecordSchemas.toRow(rowSchema, context.table(), record, context.stamp(), operation, unplanned);
    }

    @Override
    public void emit(GenericRecord row) {
      pending.add(row);
      if (pending.size() >= batchRows) {
        flush();
      }
    }

    /** Outputs the rows added since the last flush, if any, and counts them. */
    @Override
    public void flush() {
      if (pending.isEmpty()) {
        return;
      }
      out.output(Collections.unmodifiableList(pending));
      records.inc(pending.size());
      if ("delete".equals(operation)) {
        deletes.inc(pending.size());
      }
      pending = new ArrayList<>();
    }
  }
}
