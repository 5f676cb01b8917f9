package com.example.connector.read;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.SourceException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.splittabledofn.GrowableOffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.ManualWatermarkEstimator;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.WatermarkEstimators;
import org.joda.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a cursor feed for as long as the pipeline runs: the continuous read of {@code events},
 * {@code users}, {@code orders} (and its tombstones) and {@code metrics}. Each call reads what the
 * source holds below its clock, outputs it in {@link FeedBatch}es, and resumes after the poll
 * interval ({@code ProcessContinuation.resume().withResumeDelay}).
 *
 * <p><b>Restriction.</b> An {@link OffsetRange} of cursor values in microseconds, {@code [from,
 * ∞)}, on Beam's {@link GrowableOffsetRangeTracker}: {@code from} is the cursor the tables
 * committed (a restart without a savepoint resumes there), else {@code start_timestamp}, else
 * the epoch. A position is a cursor value and stands for its whole tie group, as in the bounded
 * reads ({@link CursorGroupReader}). Each poll reads {@code [from, cap)} where {@code cap} is the
 * source's clock (its {@code Date} header, read by a call made before the poll's reads: every
 * record below it was written before they start), through the strategy of the bounded read of the
 * same feed ({@link ReadCursorFn} with {@code since}, {@link ReadWindowsFn} window by window), and
 * then claims {@code cap - 1}: the next poll starts at the cap. The tracker's end estimate, for
 * sizing, is the last cap seen.
 *
 * <p><b>Batches and checkpointing.</b> A poll's rows leave as one batch, which carries the span it
 * completes: the committer needs both in one element. A batch holds whole tie groups and at most
 * {@value #MAX_BATCH_ROWS} rows (more only for one larger tie group): past that the poll stops
 * claiming, outputs the batch and resumes at once, so a long catch-up checkpoints every batch. The
 * runner may checkpoint or split at any claim; the rows of groups claimed so far leave first, under
 * the tracker's lock, as in {@link FeedRangeReadFn}, in a batch whose span ends where the runner's
 * remainder starts. Feeds are not cut into sub-ranges: a poll holds seconds of writes (a large
 * backlog is better read by a bounded run first, which splits).
 *
 * <p><b>Failures.</b> A poll whose calls fail after their retries (the source unreachable, failing
 * or throttling) before it holds a row outputs the span it claimed (empty windows) and is tried
 * again at the next poll, counted in {@code failed_polls}: a long-lived read outlasts an outage,
 * whenever in a poll it begins. A failure while the poll holds rows (they may be part of a tie
 * group larger than a page), or a record the table cannot hold, fails the read as in a bounded
 * run, and the runner retries it from its last checkpoint.
 *
 * <p><b>Watermark.</b> Event time is the cursor: a {@link ManualWatermarkEstimator} is set to the
 * cap after each poll (no record below it is still to come) and batches are stamped with the start
 * of their span.
 */
@DoFn.UnboundedPerElement
public class FollowFeedFn extends DoFn<CursorFeed, FeedBatch> {
  /** The rows one batch holds before the poll checkpoints: bounded memory, checkpoints not too frequent. */
  static final int MAX_BATCH_ROWS = 10_000;
  private static final Logger LOG = LoggerFactory.getLogger(FollowFeedFn.class);

  private final ReadContext context;
  private final FeedRangeReadFn ranges;
  /** This job's feeds by name: the reads take their parameters from these, not from the element. */
  private final Map<String, CursorFeed> planned = new HashMap<>();
  private final Duration pollInterval;
  private final TableCalls calls;
  private final Counter records;
  private final Counter deletes;
  private final Counter failedPolls;
  private transient ExampleClient client;
  private transient Schema rowSchema;
  private transient UnplannedColumns unplanned;
  private transient volatile long lastCap;

  /**
   * @param ranges the bounded read of the same feed, whose {@code readRange} reads one poll
   * @param feeds the table's feeds as this job planned them
   */
  public FollowFeedFn(ReadContext context, FeedRangeReadFn ranges, Duration pollInterval, List<CursorFeed> feeds) {
    this.context = context;
    this.ranges = ranges;
    feeds.forEach(f -> planned.put(f.feedName(), f));
    this.pollInterval = pollInterval;
    this.calls = new TableCalls(context);
    this.records = Metrics.counter(context.metricsNamespace(), "records");
    this.deletes = Metrics.counter(context.metricsNamespace(), "deletes");
    this.failedPolls = Metrics.counter(context.metricsNamespace(), "failed_polls");
  }

  @Setup
  public void setup() {
    client = calls.open();
    rowSchema = new Schema.Parser().parse(context.rowSchemaJson());
    unplanned = new UnplannedColumns(context.table(), client);
  }

  @Teardown
  public void teardown() {
    if (client != null) {
      client.close();
    }
  }

  @GetInitialRestriction
  public OffsetRange initialRestriction(@Element CursorFeed feed) {
    return new OffsetRange(feed.continuousFrom(), Long.MAX_VALUE);
  }

  @NewTracker
  public GrowableOffsetRangeTracker newTracker(@Restriction OffsetRange range) {
    return new GrowableOffsetRangeTracker(range.getFrom(), () -> Math.max(lastCap, range.getFrom()));
  }

  @GetInitialWatermarkEstimatorState
  public Instant initialWatermark(@Element CursorFeed feed) {
    return new Instant(Math.floorDiv(feed.continuousFrom(), 1000L));
  }

  @NewWatermarkEstimator
  public WatermarkEstimators.Manual newWatermarkEstimator(@WatermarkEstimatorState Instant state) {
    return new WatermarkEstimators.Manual(state);
  }

  @ProcessElement
  public ProcessContinuation process(
      @Element CursorFeed element,
      RestrictionTracker<OffsetRange, Long> tracker,
      ManualWatermarkEstimator<Instant> watermark,
      OutputReceiver<FeedBatch> out) {
    // A job resumed from a savepoint gets its elements from there, as an older spec planned them
    // (its filters, limit, window): it reads as this job's spec says, from the restored position.
    CursorFeed feed = planned.getOrDefault(element.feedName(), element);
    unplanned.newRead(); // each poll: the schema may declare a field it did not before
    long from = tracker.currentRestriction().getFrom();
    Poll poll = null;
    try {
      java.time.Instant clock = client.sourceTime();
      long cap = Timestamps.toMicros(clock != null ? clock : java.time.Instant.now());
      lastCap = cap;
      if (cap <= from) {
        return nextPoll();
      }
      RunStamp stamp = new RunStamp(context.stamp().runId(), Timestamps.toMicros(java.time.Instant.now()));
      poll = new Poll(tracker, feed, cap, stamp, out);
      ranges.readRange(feed, poll, new CursorGroupReader<>(client, feed, context.table().cursorField(),
          context.table().identityField(), poll, poll, calls.pages(), () -> false));
    } catch (SourceException e) {
      // A long-lived read outlasts a source outage when the poll holds no rows: all it claimed is
      // output (whole tie groups) or held no record (an empty window), so the span it claimed is
      // output and the next poll goes on from there. A poll holding rows may be inside a tie group
      // larger than a page, claimed but not all emitted: it fails, and the runner retries it from
      // its last checkpoint.
      if (!transientFailure(e.status()) || (poll != null && poll.holdsRows())) {
        throw e;
      }
      if (poll != null) {
        poll.output();
      }
      failedPolls.inc();
      LOG.warn("{}: a poll of {} failed after its retries ({}); polling again in {} s", context.metricsNamespace(),
          feed.feedName(), e.getMessage(), pollInterval.toSeconds());
      return nextPoll();
    }
    if (poll.split) {
      return ProcessContinuation.stop(); // the runner took the rest: it resumes as its own restriction
    }
    poll.output();
    if (poll.full) {
      return ProcessContinuation.resume(); // more below the cap: go on after this checkpoint
    }
    watermark.setWatermark(new Instant(Math.floorDiv(poll.cap, 1000L)));
    return nextPoll();
  }

  private ProcessContinuation nextPoll() {
    return ProcessContinuation.resume().withResumeDelay(org.joda.time.Duration.millis(pollInterval.toMillis()));
  }

  /** Unreachable, failing or throttling: the source may answer later; other refusals will not change. */
  static boolean transientFailure(int status) {
    return status == 0 || status == 408 || status == 429 || status >= 500;
  }

  /**
   * One poll: the tracker as the bounded read sees it, ending at the cap (its end claim is a claim
   * of {@code cap - 1}) or where the batch is full, and the sink that holds the poll's rows until
   * they leave as a batch.
   */
  private final class Poll extends TrackerView<OffsetRange, Long> implements CursorGroupReader.Sink<GenericRecord> {
    private final RestrictionTracker<OffsetRange, Long> tracker;
    private final CursorFeed feed;
    final long cap;
    private final RunStamp stamp;
    private final OutputReceiver<FeedBatch> out;
    private List<GenericRecord> rows = new ArrayList<>();
    private long batchFrom;
    private long covered; // every record below it has been claimed and emitted
    boolean split; // a claim below the cap failed: the runner checkpointed or split
    boolean full;

    Poll(RestrictionTracker<OffsetRange, Long> tracker, CursorFeed feed, long cap, RunStamp stamp,
        OutputReceiver<FeedBatch> out) {
      this.tracker = tracker;
      this.feed = feed;
      this.cap = cap;
      this.stamp = stamp;
      this.out = out;
      long from = tracker.currentRestriction().getFrom();
      this.batchFrom = from;
      this.covered = from;
    }

    /** Whether rows were emitted since the last batch left: claimed, and maybe not all of their group. */
    boolean holdsRows() {
      return !rows.isEmpty();
    }

    @Override
    public boolean tryClaim(Long position) {
      // Under the runner's lock: a split cannot move the end between the check and the claim, and
      // the rows claimed so far leave before a claim the split makes fail.
      synchronized (tracker) {
        if (position >= cap) {
          if (covered < cap) {
            claim(cap - 1); // the poll's end: everything below the cap is read
          }
          return false;
        }
        if (rows.size() >= MAX_BATCH_ROWS) {
          full = true;
          return false;
        }
        return claim(position);
      }
    }

    private boolean claim(long position) {
      long end = tracker.currentRestriction().getTo();
      if (position >= end) {
        // The runner ended the restriction: at the last claim (a checkpoint), or above it (a split),
        // where its remainder starts. The feed holds nothing unclaimed below this claim, so the
        // batch covers up to that end: a gap between the spans would hold the feed's commits back.
        covered = Math.max(covered, end);
        output();
      }
      if (!tracker.tryClaim(position)) {
        split = true;
        return false;
      }
      covered = position + 1;
      return true;
    }

    /** Outputs the rows held, with the span they complete, if there is anything to say. */
    void output() {
      if (covered > batchFrom || !rows.isEmpty()) {
        out.outputWithTimestamp(new FeedBatch(feed.feedName(), batchFrom, covered, rows),
            new Instant(Math.floorDiv(batchFrom, 1000L)));
        records.inc(rows.size());
        if (feed.tombstones()) {
          deletes.inc(rows.size());
        }
        batchFrom = covered;
        rows = new ArrayList<>();
      }
    }

    @Override
    public GenericRecord convert(ObjectNode record) {
      return RecordSchemas.toRow(rowSchema, context.table(), record, stamp, feed.operation(), unplanned);
    }

    @Override
    public void emit(GenericRecord row) {
      rows.add(row);
    }

    @Override
    public void flush() {
      // Rows leave in batches with their span (output()), never on the reader's flushes, some of
      // which fall inside a tie group.
    }

    @Override
    public OffsetRange currentRestriction() {
      synchronized (tracker) {
        return new OffsetRange(tracker.currentRestriction().getFrom(), Math.min(cap, tracker.currentRestriction().getTo()));
      }
    }
  }
}
