package com.example.connector.read;

import com.example.connector.client.ParallelCalls;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.joda.time.Instant;

/**
 * The shared base of the two cursor reads ({@link ReadCursorFn}, {@link ReadWindowsFn}): each
 * element is several sub-ranges of one feed ({@link FeedRanges}), read side by side so that calls
 * are in flight on every sub-range at once, whatever the runner's thread count.
 *
 * <p><b>Restriction.</b> A {@link RangeSet}: the sub-ranges' cursor microseconds (cut by {@link
 * SplitFeedFn} before the reshuffle, so this DoFn does not split them again), tracked by {@link
 * RangeSetTracker}, which holds each range's last claim as Beam's {@code OffsetRangeTracker} does.
 *
 * <p><b>Concurrency.</b> {@code @ProcessElement} starts one <em>lane</em> per sub-range on the
 * DoFn instance's threads ({@link ParallelCalls}); each lane reads its range with a {@link
 * CursorGroupReader} through a view of the tracker that claims positions of that range only, as if
 * it were the only one. A group holds as many sub-ranges as the connection may have calls in
 * flight, so one element keeps the call budget busy ({@code max_concurrent_requests}, shared by
 * every lane and table of the worker) whatever the runner's thread count. Rows leave the lanes as
 * batches through a small queue, and the processing thread outputs them (Beam allows output on
 * that thread only), joining queued batches up to {@code max_records_per_batch}; a lane waits when
 * the queue is full. Lanes count into the step's metrics as the processing thread
 * does. A lane that fails stops the others, and the element fails.
 *
 * <p><b>Checkpointing.</b> The DoFn checkpoints itself: after {@value #CHECKPOINT_AFTER_SECONDS}
 * s of reading, each lane stops before its next call, the DoFn outputs what the lanes read and
 * returns {@code resume()}, and the runner's checkpoint ({@link RangeSetTracker}) restarts each
 * range after its last claim. Between calls it costs none. A checkpoint the runner asks for
 * sooner (the DirectRunner, one a second) is refused: it would cut each lane's call in flight,
 * whose rows could no longer be claimed, and cost the residual that call again. (Measured on the
 * DirectRunner against a source 100 ms away: about 10% of the calls.) So the runner commits what a
 * group read, and the progress line moves, every few seconds.
 *
 * <p><b>Splitting</b> is the runner's, through the tracker: a split gives away ranges not yet
 * started, or cuts the range with the most left, keeping in the primary what each range claimed,
 * so a lane whose range was cut stops at its next claim.
 */
public abstract class FeedRangeReadFn extends SourceReadFn<FeedRanges> {
  /** Batches waiting for the processing thread, per lane. */
  private static final int QUEUED_BATCHES_PER_LANE = 2;
  /**
   * How long a group reads before it checkpoints: rarely enough that draining the lanes costs
   * little (one call's wait in that time), often enough for a live progress line.
   */
  static final int CHECKPOINT_AFTER_SECONDS = 5;

  private Duration checkpointAfter = Duration.ofSeconds(CHECKPOINT_AFTER_SECONDS);

  protected FeedRangeReadFn(ReadContext context) {
    super(context);
  }

  @GetInitialRestriction
  public RangeSet initialRestriction(@Element FeedRanges element) {
    return element.restriction();
  }

  @GetRestrictionCoder
  public Coder<RangeSet> restrictionCoder() {
    return RangeSet.Coder.of();
  }

  @NewTracker
  public RangeSetTracker newTracker(@Restriction RangeSet restriction) {
    return new RangeSetTracker(restriction, checkpointAfter);
  }

  /** Checkpoints after {@code interval} of reading instead (tests: many checkpoints in a small read). */
  FeedRangeReadFn checkpointingAfter(Duration interval) {
    this.checkpointAfter = interval;
    return this;
  }

  /** Reads range {@code range} to its end, or until a claim fails; rows go to {@code reader}'s sink. */
  protected abstract void readRange(CursorFeed feed, RestrictionTracker<OffsetRange, Long> range,
      CursorGroupReader<GenericRecord> reader);

  @ProcessElement
  public ProcessContinuation process(
      @Element FeedRanges element,
      RestrictionTracker<RangeSet, RangeSet.Position> tracker,
      OutputReceiver<List<GenericRecord>> out) {
    long pauseAt = System.nanoTime() + checkpointAfter.toNanos();
    BooleanSupplier pause = () -> System.nanoTime() - pauseAt >= 0; // monotonic: once true, true for every lane
    int ranges = tracker.currentRestriction().ranges().size();
    BlockingQueue<List<GenericRecord>> batches = new ArrayBlockingQueue<>(QUEUED_BATCHES_PER_LANE * Math.max(1, ranges));
    List<Future<?>> running = new ArrayList<>();
    for (int i = 0; i < ranges; i++) {
      RangeView view = new RangeView(tracker, i);
      if (view.currentRestriction().getFrom() < view.currentRestriction().getTo()) {
        CursorGroupReader<GenericRecord> reader = reader(element.feed(), view, new QueueReceiver(batches), pause);
        running.add(parallel.submit(() -> readRange(element.feed(), view, reader)));
      }
    }
    int batchRows = batchRows(element.feed().maxRecordsPerBatch());
    try {
      while (!allDone(running)) {
        List<GenericRecord> batch = batches.poll(50, TimeUnit.MILLISECONDS);
        if (batch != null) {
          out.output(withQueued(batch, batches, batchRows));
        }
      }
      for (List<GenericRecord> batch = batches.poll(); batch != null; batch = batches.poll()) {
        out.output(withQueued(batch, batches, batchRows));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running.forEach(f -> f.cancel(true));
      throw new IllegalStateException("interrupted while reading " + context.metricsNamespace(), e);
    }
    // After a pause, the runner's checkpoint gives the rest to a residual (none if every range ended).
    return pause.getAsBoolean() ? ProcessContinuation.resume() : ProcessContinuation.stop();
  }

  /**
   * {@code first} joined by the batches queued behind it while they fit in one batch: lanes flush
   * before every call, so one call's rows (a metrics window, a page of users) are often far fewer
   * than a batch, and a runner that checkpoints after a number of outputs (the DirectRunner, after
   * 100) would stop every lane that often. Nothing waits for more rows.
   */
  static List<GenericRecord> withQueued(
      List<GenericRecord> first, BlockingQueue<List<GenericRecord>> batches, int batchRows) {
    List<GenericRecord> next = batches.peek();
    if (next == null || first.size() + next.size() > batchRows) {
      return first;
    }
    List<GenericRecord> joined = new ArrayList<>(first);
    while ((next = batches.peek()) != null && joined.size() + next.size() <= batchRows) {
      joined.addAll(batches.poll()); // this thread alone takes from the queue
    }
    return Collections.unmodifiableList(joined);
  }

  /** Whether every lane ended; the first that failed, rethrown (the others stopped). */
  private static boolean allDone(List<Future<?>> running) {
    boolean done = true;
    for (Future<?> lane : running) {
      if (!lane.isDone()) {
        done = false;
        continue;
      }
      try {
        lane.get();
      } catch (ExecutionException e) {
        running.forEach(f -> f.cancel(true));
        throw ParallelCalls.failure(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    return done;
  }

  private CursorGroupReader<GenericRecord> reader(CursorFeed feed, RestrictionTracker<OffsetRange, Long> range,
      OutputReceiver<List<GenericRecord>> out, BooleanSupplier pause) {
    return new CursorGroupReader<>(
        client,
        feed,
        context.table().cursorField(),
        context.table().identityField(),
        range,
        rows(out, feed.operation(), feed.maxRecordsPerBatch()),
        pages,
        pause);
  }

  /**
   * One range of the set, as a tracker of that range alone; splitting is the set's.
   *
   * <p>A claim at or past the range's end fails here, for its lane, and reaches the set as a
   * claim of the range's last position (which ends the range): never as a failed claim, after
   * which Beam allows the DoFn no output, while the other lanes go on. The check and the claim
   * hold the runner's tracker's lock (its observer's methods are synchronized on it), so no split
   * moves the end between them.
   */
  static final class RangeView extends RestrictionTracker<OffsetRange, Long> {
    private final RestrictionTracker<RangeSet, RangeSet.Position> set;
    private final int index;
    private long lastClaimed = Long.MIN_VALUE;

    RangeView(RestrictionTracker<RangeSet, RangeSet.Position> set, int index) {
      this.set = set;
      this.index = index;
    }

    @Override
    public boolean tryClaim(Long position) {
      synchronized (set) {
        OffsetRange range = currentRestriction();
        if (position >= range.getTo()) {
          if (range.getFrom() < range.getTo() && lastClaimed < range.getTo() - 1) {
            set.tryClaim(new RangeSet.Position(index, range.getTo() - 1));
            lastClaimed = range.getTo() - 1;
          }
          return false;
        }
        boolean claimed = set.tryClaim(new RangeSet.Position(index, position));
        if (claimed) {
          lastClaimed = position;
        }
        return claimed;
      }
    }

    @Override
    public OffsetRange currentRestriction() {
      return set.currentRestriction().ranges().get(index);
    }

    @Override
    public SplitResult<OffsetRange> trySplit(double fractionOfRemainder) {
      throw new UnsupportedOperationException("a range of a set is split through the set's tracker");
    }

    @Override
    public void checkDone() {
      // the set's tracker checks every range
    }

    @Override
    public IsBounded isBounded() {
      return IsBounded.BOUNDED;
    }
  }

  /** Hands a lane's batches to the processing thread, waiting while the queue is full. */
  private static final class QueueReceiver implements OutputReceiver<List<GenericRecord>> {
    private final BlockingQueue<List<GenericRecord>> batches;

    QueueReceiver(BlockingQueue<List<GenericRecord>> batches) {
      this.batches = batches;
    }

    @Override
    public void output(List<GenericRecord> batch) {
      try {
        batches.put(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("a read lane was stopped", e);
      }
    }

    @Override
    public void outputWithTimestamp(List<GenericRecord> batch, Instant timestamp) {
      output(batch);
    }
  }
}
