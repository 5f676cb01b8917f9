package com.example.connector.continuous;

import com.example.connector.read.FeedBatch;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.state.BagState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The committer of one table of a continuous run: holds the batches its reads deliver, in Beam
 * state, and commits them ({@link IntervalCommitter}) about once per commit interval: at once
 * when a batch arrives an interval (less a tenth) after the last commit, else at a tick an
 * interval after it. In the shape of Iceberg's Flink committer: one committer per table, idempotent,
 * after the batches are durable.
 *
 * <p>Input is stable ({@code @RequiresStableInput}): a batch reaches the committer only once it is
 * checkpointed (Flink, which requires checkpointing for it; Dataflow natively), so a commit that is
 * retried after a failure commits the same batches, and finds them committed. The table's own
 * cursors decide what is new, so even a commit from an older savepoint doubles nothing.
 *
 * <p>A commit needs rows, except now and then ({@value #CURSOR_ONLY_EVERY} intervals without one)
 * and at a stop ({@link StopSignal}), when the cursors alone are committed: an idle table shows
 * how fresh it is without a snapshot per interval.
 *
 * <p>Outputs, per commit, the rows it committed and the lowest cursor the table then holds (in
 * milliseconds), which {@link CommitMetricsFn} counts: Flink runs a stable-input step's work when
 * a checkpoint completes, where metrics of its own are not reported.
 */
public class CommitIntervalsFn extends DoFn<KV<String, FeedBatch>, KV<Long, Long>> {
  static final int CURSOR_ONLY_EVERY = 10;
  private static final Logger LOG = LoggerFactory.getLogger(CommitIntervalsFn.class);

  private final ContinuousTable table;
  private final Duration interval;

  @StateId("pending")
  private final StateSpec<BagState<FeedBatch>> pendingSpec;

  @StateId("armed")
  private final StateSpec<ValueState<Boolean>> armedSpec = StateSpecs.value();

  @StateId("lastAttempt")
  private final StateSpec<ValueState<Long>> lastAttemptSpec = StateSpecs.value();

  @StateId("lastCommit")
  private final StateSpec<ValueState<Long>> lastCommitSpec = StateSpecs.value();

  /** The table's cursors at the last commit: a restored job finds its table dropped or rolled back below them. */
  @StateId("reached")
  private final StateSpec<ValueState<Map<String, Long>>> reachedSpec =
      StateSpecs.value(MapCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));

  @TimerId("commit")
  private final TimerSpec commitSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

  public CommitIntervalsFn(ContinuousTable table, Duration interval) {
    this.table = table;
    this.interval = interval;
    this.pendingSpec = StateSpecs.bag(FeedBatch.Coder.of(AvroCoder.of(GenericRecord.class, table.feedSchema())));
  }

  @RequiresStableInput
  @ProcessElement
  public void process(
      @Element KV<String, FeedBatch> batch,
      @StateId("pending") BagState<FeedBatch> pending,
      @StateId("armed") ValueState<Boolean> armed,
      @StateId("lastAttempt") ValueState<Long> lastAttempt,
      @StateId("lastCommit") ValueState<Long> lastCommit,
      @StateId("reached") ValueState<Map<String, Long>> reached,
      @TimerId("commit") Timer commit,
      OutputReceiver<KV<Long, Long>> out) {
    pending.add(batch.getValue());
    long wait = waitMillis(lastAttempt.read(), Instant.now(), interval);
    // Due within a tenth of the interval counts as due: batches arriving on a regular beat (polls,
    // Flink's checkpoints) would otherwise miss it by a hair and wait a whole beat more.
    if (wait <= interval.toMillis() / 10) {
      // An interval since the last commit: commit now. On Flink the batches arrive as a checkpoint
      // completes (stable input), so waiting a further interval would only add to the lag.
      commit(pending, armed, lastAttempt, lastCommit, reached, commit, out);
    } else if (!Boolean.TRUE.equals(armed.read())) {
      commit.offset(org.joda.time.Duration.millis(wait)).setRelative();
      armed.write(true);
    }
  }

  @OnTimer("commit")
  public void onCommit(
      @StateId("pending") BagState<FeedBatch> pending,
      @StateId("armed") ValueState<Boolean> armed,
      @StateId("lastAttempt") ValueState<Long> lastAttempt,
      @StateId("lastCommit") ValueState<Long> lastCommit,
      @StateId("reached") ValueState<Map<String, Long>> reached,
      @TimerId("commit") Timer commit,
      OutputReceiver<KV<Long, Long>> out) {
    commit(pending, armed, lastAttempt, lastCommit, reached, commit, out);
  }

  /**
   * How long after {@code now} the next commit is due: an interval after the last attempt, and
   * never more than an interval away. A last attempt ahead of {@code now} means this machine's
   * clock was set back since, or the state was saved on a machine whose clock ran ahead: waiting
   * out the difference would hold the table's commits back that long.
   */
  static long waitMillis(@Nullable Long lastAttempt, Instant now, Duration interval) {
    return lastAttempt == null ? 0
        : Math.min(interval.toMillis(), lastAttempt + interval.toMillis() - now.toEpochMilli());
  }

  /** Commits the batches held that extend the cursors; keeps the others, and a tick for them. */
  private void commit(BagState<FeedBatch> pending, ValueState<Boolean> armed, ValueState<Long> lastAttempt,
      ValueState<Long> lastCommitAt, ValueState<Map<String, Long>> reached, Timer commit,
      OutputReceiver<KV<Long, Long>> out) {
    List<FeedBatch> batches = new ArrayList<>();
    Schema schema = table.feedSchema(); // this job's: a savepoint's batches may hold rows planned before a new column
    pending.read().forEach(b -> batches.add(b.in(schema)));
    Instant now = Instant.now();
    Long last = lastCommitAt.read();
    boolean cursorOnly = StopSignal.requested() || last == null
        || now.toEpochMilli() - last >= CURSOR_ONLY_EVERY * interval.toMillis();
    Map<String, Long> before = reached.read();
    IntervalCommitter.Outcome outcome =
        IntervalCommitter.commit(table, batches, cursorOnly, now, before == null ? Map.of() : before);
    lastAttempt.write(now.toEpochMilli());
    pending.clear();
    outcome.remaining().forEach(pending::add);
    if (outcome.committed()) {
      lastCommitAt.write(now.toEpochMilli());
      reached.write(Map.copyOf(outcome.cursors()));
      long cursor = outcome.cursors().values().stream().min(Long::compare).orElse(0L);
      out.output(KV.of(outcome.rows(), Math.floorDiv(cursor, 1000L)));
      LOG.debug("{}: committed {} rows, cursors {}", table.key(), outcome.rows(), outcome.cursors());
    }
    if (outcome.remaining().isEmpty()) {
      armed.write(false);
    } else {
      commit.offset(org.joda.time.Duration.millis(interval.toMillis())).setRelative();
      armed.write(true);
    }
  }
}
