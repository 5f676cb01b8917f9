package com.example.connector.read;

import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.SourceException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.splittabledofn.ManualWatermarkEstimator;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.WatermarkEstimators;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.joda.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a snapshot table ({@code products}) again and again for as long as the pipeline runs:
 * one whole snapshot per snapshot interval, output as one {@link FeedBatch}, which the table's
 * committer merges (keys gone from it become deletes).
 *
 * <p><b>Restriction.</b> An {@link OffsetRange} of snapshot times in microseconds {@code [first,
 * ∞)} on Beam's {@link OffsetRangeTracker}, {@code first} the run's planned snapshot time (after the
 * table's last snapshot): each call claims its snapshot's time (the source's clock, or the first
 * time not yet claimed if that clock is below it: the committer drops a snapshot no later than the
 * one its table holds, as one it committed already), reads the whole table with the
 * bounded snapshot read ({@link ReadSnapshotPagesFn}, its key ranges read side by side by this
 * call, which keeps its guarantee: every row that exists throughout is read exactly once while
 * rows are inserted), outputs it, and resumes after the snapshot interval. A checkpoint falls between
 * snapshots, never inside one: a snapshot's time is claimed before its rows are read, so a checkpoint
 * the runner takes during a long read (the DirectRunner's after 1 s, Flink's after 10 s) gives the
 * residual the times after it, and this snapshot is output whole or not at all. A read that fails
 * after its retries (the source unreachable, failing or throttling) is counted in {@code
 * failed_polls}, and the next snapshot reads the table again after the interval.
 *
 * <p><b>Size and watermark.</b> A snapshot is held in memory while it is read (a snapshot table
 * is a dimension table; its size is the table's). Event time is the snapshot's time: the watermark
 * moves there after each snapshot.
 */
@DoFn.UnboundedPerElement
public class FollowSnapshotFn extends DoFn<SnapshotRead, FeedBatch> {
  private static final Logger LOG = LoggerFactory.getLogger(FollowSnapshotFn.class);
  private final ReadSnapshotPagesFn pages;
  /** This job's read: a job resumed from a savepoint gets its element from there, as an older spec planned it. */
  private final SnapshotRead planned;
  private final Duration snapshotInterval;
  private final long firstAt;
  private final TableCalls calls;
  private final Counter failedReads;
  private transient ExampleClient client;

  /** @param firstAt the earliest time of the run's snapshots: the planned one, after the table's last */
  public FollowSnapshotFn(ReadContext context, SnapshotRead planned, Duration snapshotInterval, long firstAt) {
    this.pages = new ReadSnapshotPagesFn(context);
    this.planned = planned;
    this.snapshotInterval = snapshotInterval;
    this.firstAt = firstAt;
    this.calls = new TableCalls(context);
    this.failedReads = Metrics.counter(context.metricsNamespace(), "failed_polls");
  }

  @Setup
  public void setup() {
    pages.setup();
    client = calls.open();
  }

  @Teardown
  public void teardown() {
    pages.teardown();
    if (client != null) {
      client.close();
    }
  }

  @GetInitialRestriction
  public OffsetRange initialRestriction() {
    return new OffsetRange(firstAt, Long.MAX_VALUE);
  }

  @NewTracker
  public OffsetRangeTracker newTracker(@Restriction OffsetRange range) {
    return new OffsetRangeTracker(range);
  }

  @GetInitialWatermarkEstimatorState
  public Instant initialWatermark() {
    return BoundedWindow.TIMESTAMP_MIN_VALUE; // before the first snapshot, nothing is known
  }

  @NewWatermarkEstimator
  public WatermarkEstimators.Manual newWatermarkEstimator(@WatermarkEstimatorState Instant state) {
    return new WatermarkEstimators.Manual(state);
  }

  @ProcessElement
  public ProcessContinuation process(
      @Element SnapshotRead read,
      RestrictionTracker<OffsetRange, Long> tracker,
      ManualWatermarkEstimator<Instant> watermark,
      OutputReceiver<FeedBatch> out) {
    long at;
    List<GenericRecord> rows = new ArrayList<>();
    try {
      java.time.Instant clock = client.sourceTime();
      at = Math.max(Timestamps.toMicros(clock != null ? clock : java.time.Instant.now()),
          tracker.currentRestriction().getFrom());
      // Claimed before the rows are read: a checkpoint taken before the claim would give the residual
      // this snapshot, read again at once, and a table slower to read than the runner's checkpoint never output.
      if (!tracker.tryClaim(at)) {
        return ProcessContinuation.stop();
      }
      pages.readWhole(planned, new OutputReceiver<>() { // its filters, not the element's
        @Override
        public void output(List<GenericRecord> chunk) {
          rows.addAll(chunk);
        }

        @Override
        public void outputWithTimestamp(List<GenericRecord> chunk, Instant timestamp) {
          rows.addAll(chunk);
        }
      });
    } catch (SourceException e) {
      if (!FollowFeedFn.transientFailure(e.status())) {
        throw e;
      }
      // Nothing of this snapshot was output: the next one reads the table again after the interval.
      failedReads.inc();
      LOG.warn("{}: a snapshot read failed after its retries ({}); reading again in {} s",
          read.table(), e.getMessage(), snapshotInterval.toSeconds());
      return next();
    }
    Instant time = new Instant(Math.floorDiv(at, 1000L));
    out.outputWithTimestamp(new FeedBatch(FeedBatch.SNAPSHOT, at, at, rows), time);
    watermark.setWatermark(time);
    return next();
  }

  private ProcessContinuation next() {
    return ProcessContinuation.resume().withResumeDelay(org.joda.time.Duration.millis(snapshotInterval.toMillis()));
  }
}
