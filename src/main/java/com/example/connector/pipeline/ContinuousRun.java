package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import com.example.connector.catalog.Timestamps;
import com.example.connector.continuous.StopSignal;
import com.example.connector.table.SnapshotSummary;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.beam.runners.dataflow.DataflowPipelineJob;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.iceberg.DataOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.checkerframework.checker.nullness.qual.Nullable;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Runs a continuous pipeline until it is stopped: prints, every progress interval, each table's
 * freshness as its committed snapshots tell it (the tables are the truth on every runner, and the
 * only view of an embedded Flink job, whose {@code run()} returns when it ends); and stops after a
 * final commit: on {@link StopSignal} (Ctrl-C and SIGTERM raise it) the
 * committers commit what they hold, this waits until every table has committed since, then
 * cancels the pipeline and prints the summary.
 */
final class ContinuousRun {
  /** How long a stop waits for the final commits beyond a poll and a commit interval. */
  private static final Duration STOP_GRACE = Duration.ofSeconds(30);
  /**
   * How long a stop waits for a submission under way to return its job (a stop that came as the job
   * was submitted): a Dataflow or detached Flink job found that way is left running, not cancelled
   * after waiting for commits its workers never make. An attached run never returns: it waits that long once.
   */
  private static final Duration SUBMISSION_GRACE = Duration.ofSeconds(2);

  private final IngestPlan plan;
  private final IngestOptions options;
  private final PrintStream out;
  private final Instant start = Instant.now();
  /**
   * How far the source's clock is ahead of this machine's (behind: negative) when the run was
   * planned: the committed cursors are the source's times, so a lag is measured on its clock.
   */
  private final Duration sourceAhead;

  ContinuousRun(IngestPlan plan, IngestOptions options, PrintStream out) {
    this.plan = plan;
    this.options = options;
    this.out = out;
    this.sourceAhead = Duration.between(Timestamps.parse(plan.committedAt()), plan.cap());
  }

  /**
   * Flink's {@code @RequiresStableInput} needs checkpoints: without a checkpointing interval of
   * the user's, two per commit interval.
   */
  static void enableCheckpoints(IngestOptions options) {
    if (FlinkRunner.class.isAssignableFrom(options.getRunner())) {
      FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
      if (RunnerChecks.isEmbeddedFlink(flink.getFlinkMaster())
          && !Object.class.getModule().isOpen("java.util", ContinuousRun.class.getModule())) {
        throw new ConfigurationException("a continuous run on Flink embedded needs the JVM option"
            + " --add-opens=java.base/java.util=ALL-UNNAMED (Flink's checkpoints serialize with Kryo, which"
            + " Java 17 refuses without it; README's mvn exec:exec@run and Flink's own scripts pass it):"
            + " add it to the java command");
      }
      if (flink.getCheckpointingInterval() == null || flink.getCheckpointingInterval() <= 0) {
        // A quarter of the commit interval: a committer's batches (and timers) wait for a
        // checkpoint, and it commits at the first checkpoint an interval after its last commit, so
        // the checkpoint interval adds to every row's wait for its commit.
        flink.setCheckpointingInterval(Math.max(1000L, options.getCommitIntervalSeconds() * 250L));
      }
    }
  }

  /** Runs until a stop or a failure; the exit code. */
  int run(Pipeline pipeline) throws InterruptedException {
    StopSignal.reset();
    CompletableFuture<PipelineResult> running = CompletableFuture.supplyAsync(pipeline::run);
    Map<Signal, SignalHandler> previous = onStopSignals();
    out.println("Continuous run " + plan.runId() + ": polls every " + options.getPollIntervalSeconds()
        + " s, commits every " + options.getCommitIntervalSeconds() + " s; Ctrl-C stops after a final commit");
    try {
      Duration every = Duration.ofSeconds(Math.max(1, options.getProgressIntervalSeconds()));
      Instant nextLine = Instant.now().plus(every);
      FlinkJobStatus flinkJob = null;
      while (!StopSignal.requested()) {
        PipelineResult result = await(running, Duration.ofMillis(200));
        if (result != null && flinkJob == null && (flinkJob = FlinkJobStatus.ofDetached(result, options)) != null) {
          out.println("Flink job " + flinkJob.uri() + " (its id is the last part: flink stop, cancel and the web UI take it)");
        }
        if (result != null) {
          try {
            PipelineResult.State state = IngestMain.waitFor(result, Duration.ofMillis(200));
            if (state == PipelineResult.State.DONE && isDetachedFlink(result)) {
              // Only a stop ends a continuous job well: Flink's stop-with-savepoint (or a drain).
              out.println("The Flink job has finished (stopped with a savepoint): resume it with"
                  + " --savepointPath=SAVEPOINT, or start it again without one: each table resumes from its cursors");
              return 0;
            }
            if (state == PipelineResult.State.DONE || state == PipelineResult.State.UPDATED) {
              // Dataflow's drain ends a job DONE (Beam's JOB_STATE_DRAINED), --update ends the old job UPDATED.
              out.println("The job has " + (state == PipelineResult.State.DONE ? "finished (drained)"
                  : "been replaced by its update (--update), which goes on") + "; a new job resumes each table"
                  + " from its cursors");
              return 0;
            }
            if (state.isTerminal()) {
              return failed(FlinkJobStatus.ended(state, flinkJob));
            }
          } catch (RuntimeException e) {
            if (Thread.currentThread().isInterrupted()) {
              return interrupted(running);
            }
            return failed("failed: " + e.getMessage());
          }
        } else if (running.isCompletedExceptionally()) {
          return failed("failed: " + running.handle((r, e) -> e.getMessage()).join());
        }
        if (options.getProgressIntervalSeconds() > 0 && !Instant.now().isBefore(nextLine)) {
          out.println(line(Instant.now()) + (flinkJob == null ? "" : "  (" + flinkJob.describe() + ")"));
          nextLine = nextLine.plus(every);
        }
      }
      PipelineResult detached = await(running, SUBMISSION_GRACE);
      if (detached != null && isDetachedFlink(detached)) {
        out.println("The job goes on running on the Flink cluster; stop it with a savepoint (README, Runners:"
            + " flink stop --savepointPath DIR JOB_ID) and resume it from there, or cancel it: the tables"
            + " hold their cursors either way");
        return 0;
      }
      if (detached instanceof DataflowPipelineJob job) {
        // Its committers run on Dataflow's workers, which never see this stop: no final commit to wait for.
        out.println("The job goes on running on Dataflow; drain it (gcloud dataflow jobs drain " + job.getJobId()
            + " --region=" + job.getRegion() + ") or cancel it: the tables hold their cursors either way");
        return 0;
      }
      Instant stopAt = Instant.now();
      out.println("Stopping: committing what was read, then cancelling the pipeline");
      boolean committed = awaitCommitsSince(stopAt);
      end(running);
      summary(committed);
      return committed ? 0 : 1;
    } catch (InterruptedException e) {
      return interrupted(running);
    } finally {
      previous.forEach(Signal::handle);
    }
  }

  /**
   * Ctrl-C (SIGINT) and SIGTERM raise {@link StopSignal} instead of ending the JVM: a shutdown
   * hook would be too late, as the DirectRunner's threads and Hadoop's file systems are shut down
   * by hooks of their own. The handlers before are returned, to be put back.
   */
  private static Map<Signal, SignalHandler> onStopSignals() {
    Map<Signal, SignalHandler> previous = new HashMap<>();
    for (String name : List.of("INT", "TERM")) {
      try {
        Signal signal = new Signal(name);
        previous.put(signal, Signal.handle(signal, s -> StopSignal.request()));
      } catch (IllegalArgumentException e) {
        // not a signal here (or the JVM runs with -Xrs): the run is stopped by StopSignal alone
      }
    }
    return previous;
  }

  /**
   * Cancels the pipeline after its final commit. An attached Flink job ({@code run()} has not
   * returned) cannot be cancelled from here: it is embedded, and ends with this JVM.
   */
  private void end(CompletableFuture<PipelineResult> running) throws InterruptedException {
    PipelineResult result = await(running, Duration.ofSeconds(1));
    if (result != null && !result.getState().isTerminal()) {
      try {
        result.cancel();
        // Returns once the pipeline has stopped: no commit of it still writes after the run ends.
        result.waitUntilFinish(org.joda.time.Duration.millis(STOP_GRACE.toMillis()));
      } catch (java.io.IOException | UnsupportedOperationException e) {
        out.println("(the pipeline could not be cancelled: " + e.getMessage() + ")");
      } catch (RuntimeException e) {
        // a cancelled DirectRunner pipeline may report its cancellation as a failure: it has stopped
      }
    }
  }

  /**
   * The launching thread was interrupted (an application that embeds the run, a test's timeout):
   * the run ends at once, without a final commit ({@link IngestMain#cancelInThisJvm}); each table
   * keeps the cursors it committed. A job on a cluster or Dataflow goes on, as after Ctrl-C.
   */
  private int interrupted(CompletableFuture<PipelineResult> running) throws InterruptedException {
    Thread.interrupted(); // cleared while the pipeline is cancelled, then restored
    PipelineResult result = await(running, Duration.ZERO);
    boolean cancelled = result != null && IngestMain.cancelInThisJvm(result);
    Thread.currentThread().interrupt();
    return failed("was interrupted" + (cancelled ? " and cancelled, without a final commit" : ""));
  }

  private static boolean isDetachedFlink(PipelineResult result) {
    return result.getClass().getName().equals("org.apache.beam.runners.flink.FlinkDetachedRunnerResult");
  }

  /** The pipeline's result if {@code run()} returned within {@code wait}; null if it still runs (attached Flink). */
  private static @Nullable PipelineResult await(CompletableFuture<PipelineResult> running, Duration wait)
      throws InterruptedException {
    try {
      return running.get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      return null; // still running, or failed: the caller asks
    }
  }

  private int failed(String why) {
    out.println("error: the continuous pipeline " + why + "; every table holds what it committed, with"
        + " its cursors: start the run again and it resumes from them");
    return 1;
  }

  /** How long a stop waits for the final commits: a poll, two commit intervals and some grace. */
  private Duration stopWait() {
    return Duration.ofSeconds(options.getPollIntervalSeconds() + 2L * options.getCommitIntervalSeconds())
        .plus(STOP_GRACE);
  }

  /**
   * Waits until every table read by cursor has a snapshot committed after {@code since} (or the
   * wait ends). A snapshot table commits each snapshot whole when it is read, so it has nothing
   * left to commit.
   */
  private boolean awaitCommitsSince(Instant since) throws InterruptedException {
    long deadline = System.nanoTime() + stopWait().toNanos();
    while (System.nanoTime() < deadline) {
      if (plan.tables().stream().filter(t -> t.snapshot() == null)
          .allMatch(t -> committedAt(t).map(at -> !at.isBefore(since)).orElse(false))) {
        return true;
      }
      Thread.sleep(200); // polls the catalog: the tables are in another JVM's hands on a cluster
    }
    out.println("error: not every table committed within the stop's grace period; the next run resumes"
        + " each table from the cursors it holds");
    return false;
  }

  private java.util.Optional<Instant> committedAt(PlannedTable t) {
    Snapshot s = table(t).currentSnapshot();
    String at = s == null ? null : s.summary().get(SnapshotSummary.COMMITTED_AT);
    return at == null ? java.util.Optional.empty() : java.util.Optional.of(Timestamps.parse(at));
  }

  private Table table(PlannedTable t) {
    Catalog catalog = plan.catalog().load();
    return catalog.loadTable(t.destination().identifier());
  }

  /**
   * Per table: its lag (now on the source's clock less the lowest cursor it committed; never below
   * zero, which only the second the source's {@code Date} header is rounded to could make it), the
   * time since its last commit, and the rows its commits added over the last minute, per second.
   */
  String line(Instant now) {
    StringBuilder b = new StringBuilder(String.format("[%5ds]", Duration.between(start, now).toSeconds()));
    for (PlannedTable t : plan.tables()) {
      Freshness f = freshness(table(t), now);
      b.append("  ").append(t.destination().table()).append(": ");
      if (f.cursor() == null) {
        b.append("no commit yet");
        continue;
      }
      Duration lag = Duration.between(f.cursor(), now.plus(sourceAhead));
      b.append("lag ").append(seconds(lag.isNegative() ? Duration.ZERO : lag))
          .append(", commit ").append(seconds(Duration.between(f.committedAt(), now))).append(" ago, ")
          .append(String.format("%.1f rows/s", f.rowsLastMinute() / 60.0));
    }
    return b.toString();
  }

  private record Freshness(@Nullable Instant cursor, @Nullable Instant committedAt, long rowsLastMinute) {}

  private static Freshness freshness(Table table, Instant now) {
    Snapshot current = table.currentSnapshot();
    Map<String, String> cursors = SnapshotSummary.cursors(SnapshotSummary.lastCommitted(table, current));
    if (cursors.isEmpty()) {
      return new Freshness(null, null, 0);
    }
    Instant cursor = cursors.values().stream().map(Timestamps::parse).min(Instant::compareTo).orElseThrow();
    long rows = 0;
    for (Snapshot s = current; s != null && Instant.ofEpochMilli(s.timestampMillis()).isAfter(now.minusSeconds(60));
        s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
      if (!DataOperations.REPLACE.equals(s.operation())) { // a compaction rewrites rows, adds none
        rows += Long.parseLong(s.summary().getOrDefault("added-records", "0"));
      }
    }
    return new Freshness(cursor, Instant.ofEpochMilli(current.timestampMillis()), rows);
  }

  private static String seconds(Duration d) {
    return String.format("%.1f s", d.toMillis() / 1000.0);
  }

  /** A run's commits to a table and the rows they added. */
  record RunCommits(int commits, long rowsAdded) {}

  /** The commits of run {@code runId} to {@code table}: its snapshots from the current one back. */
  static RunCommits runCommits(Table table, String runId) {
    int commits = 0;
    long added = 0;
    for (Snapshot s = table.currentSnapshot(); s != null; s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
      if (DataOperations.REPLACE.equals(s.operation())) {
        continue; // a compaction: it carries the last commit's summary on, and rewrites rows, adds none
      }
      String run = SnapshotSummary.runId(s);
      if (run == null || !run.startsWith(runId)) {
        break;
      }
      commits++;
      added += Long.parseLong(s.summary().getOrDefault("added-records", "0"));
    }
    return new RunCommits(commits, added);
  }

  /** Per table: the commits and rows of this run, its cursors, rows and snapshot now. */
  private void summary(boolean committed) {
    String format = "%-28s %8s %12s %10s  %-34s %s%n";
    out.printf(format, "table", "commits", "rows added", "table rows", "cursors", "snapshot");
    for (PlannedTable t : plan.tables()) {
      Table table = table(t);
      Snapshot current = table.currentSnapshot();
      RunCommits run = runCommits(table, plan.runId());
      List<String> cursors = new ArrayList<>();
      SnapshotSummary.cursors(SnapshotSummary.lastCommitted(table, current))
          .forEach((feed, cursor) -> cursors.add(feed + "=" + cursor));
      out.printf(format, t.destination().key(), run.commits(), run.rowsAdded(), SnapshotSummary.liveRows(current),
          String.join(" ", cursors), current == null ? "-" : current.snapshotId());
    }
    out.println((committed ? "Stopped after a final commit" : "Stopped") + " after "
        + Duration.between(start, Instant.now()).toSeconds() + " s");
  }
}
