package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.connector.table.CatalogConfig;
import com.example.connector.table.Destination;
import com.example.connector.table.SnapshotSummary;
import com.example.source.ExampleSource;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Runs one ingestion: validates the spec, connection and options against the source, builds the
 * pipeline, runs it on the configured runner with a progress line, and prints a summary.
 *
 * <p>Exit codes: 0 committed; 1 the run failed (the message says whether it committed); 2 bad
 * configuration (nothing read, no file changed).
 */
public final class IngestMain {

  /** What a run did, for callers that run it in-process (tests, benchmarks). */
  public record Outcome(int exitCode, IngestPlan plan, Map<String, Map<String, Long>> counters) {}

  /** The source a run reads: the connection's, or an embedded one started for the run. */
  private record Endpoint(SourceConfig config, @Nullable ExampleSource embedded) implements AutoCloseable {
    static Endpoint open(Connection connection, IngestOptions options, PrintStream out) {
      ExampleSource embedded = null;
      URI baseUrl = connection.baseUrl();
      if (baseUrl == null) {
        embedded = ExampleSource.builder().port(0).start();
        baseUrl = embedded.baseUrl();
        out.println("Connection '" + connection.name() + "' has no base_url: started the embedded Example source at " + baseUrl);
      }
      long backoff = options.getRetryInitialBackoffMillis();
      RetryPolicy retry = new RetryPolicy(options.getRetryMaxAttempts(), Duration.ofMillis(backoff),
          Duration.ofMillis(Math.max(backoff, 30_000)));
      return new Endpoint(new SourceConfig(baseUrl, connection.username(), connection.password(), retry,
          connection.maxConcurrentRequests()), embedded);
    }

    @Override
    public void close() {
      if (embedded != null) {
        embedded.close();
      }
    }
  }

  private IngestMain() {}

  public static void main(String[] args) {
    System.exit(runInFreshJvm(args, System.out, System.err).exitCode());
  }

  /**
   * {@link #run}, as the first thing a JVM of its own does ({@code main}, a benchmark's child):
   * with its runner's classes loaded beside it ({@link StartupClasses}), and Beam's options
   * registry limited to that runner's ({@link OptionsRegistry}).
   */
  public static Outcome runInFreshJvm(String[] args, PrintStream out, PrintStream err) {
    StartupClasses.loadInBackground(args);
    OptionsRegistry.limitFor(args);
    return run(args, out, err);
  }

  /**
   * The DirectRunner's immutability and encodability checks, unless asked for: they exist to
   * catch DoFns that mutate their input in unit tests, and cost a walk of the whole graph per
   * bundle, which dominates a run of this pipeline's size.
   */
  private static void relaxDirectRunnerChecks(DirectOptions direct, String[] args) {
    if (java.util.Arrays.stream(args).noneMatch(a -> a.startsWith("--enforceImmutability"))) {
      direct.setEnforceImmutability(false);
    }
    if (java.util.Arrays.stream(args).noneMatch(a -> a.startsWith("--enforceEncodability"))) {
      direct.setEnforceEncodability(false);
    }
  }

  public static Outcome run(String[] args, PrintStream out, PrintStream err) {
    IngestOptions options;
    PipelineSpec spec;
    Connection connection;
    try {
      options = options(args);
      spec = PipelineSpec.load(Path.of(options.getSpec()));
      connection = connection(spec, options);
      RunnerChecks.check(options, connection);
      if (options.isStreaming()) {
        ContinuousRun.enableCheckpoints(options);
      }
    } catch (ConfigurationException e) {
      return configurationError(e, err);
    }
    try (Endpoint source = Endpoint.open(connection, options, out)) {
      IngestPlan plan = IngestPlanner.plan(spec, options.getSpec(), connection, source.config(), options, Instant.now());
      out.println("Run " + plan.runId() + ": " + plan.tables().size() + (plan.tables().size() == 1 ? " table" : " tables")
          + " from " + source.config().baseUrl() + " on " + options.getRunner().getSimpleName()
          + ", cursors capped at " + plan.cap() + "; Iceberg catalog " + plan.catalog());
      return execute(plan, options, out, err);
    } catch (ConfigurationException e) {
      return configurationError(e, err);
    } catch (RuntimeException e) {
      // Before the pipeline started: a failing source, an unreadable state file, an I/O error.
      err.println("error: " + describe(e) + "; this run read and committed nothing");
      return new Outcome(1, null, Map.of());
    }
  }

  /** The merged, checked options; Beam's own parse errors are configuration errors too. */
  private static IngestOptions options(String[] args) {
    PipelineOptionsFactory.register(IngestOptions.class);
    String[] merged = RunnerConfig.merge(args);
    IngestOptions options = OptionChecks.parse(merged, IngestOptions.class);
    relaxDirectRunnerChecks(options.as(DirectOptions.class), merged);
    OptionChecks.check(options);
    FileSystems.setDefaultPipelineOptions(options);
    return options;
  }

  private static Connection connection(PipelineSpec spec, IngestOptions options) {
    Path connectionsDir = Path.of(options.getSpec()).toAbsolutePath().getParent().resolve("connections");
    return Connection.resolve(spec.connectionName(), connectionsDir,
        options.getConnection() == null ? null : Path.of(options.getConnection()));
  }

  private static Outcome configurationError(ConfigurationException e, PrintStream err) {
    err.println("error: " + e.getMessage());
    return new Outcome(2, null, Map.of());
  }

  /** Runs the planned pipeline to its end, with progress lines, and reports how it ended. */
  private static Outcome execute(IngestPlan plan, IngestOptions options, PrintStream out, PrintStream err) {
    Instant start = Instant.now();
    FlinkJobStatus flinkJob = null;
    try {
      Pipeline pipeline = Pipeline.create(options);
      if (options.isStreaming()) {
        return executeContinuous(pipeline, plan, options, out);
      }
      IngestPipeline.build(pipeline, plan);
      if (options.getDryRun()) {
        DryRun.print(pipeline, options, out);
        return new Outcome(0, plan, Map.of());
      }
      options.as(DirectOptions.class).setBlockOnRun(false);
      try (EmbeddedFlinkFiles flinkFiles = EmbeddedFlinkFiles.of(options, plan.runId())) {
        PipelineResult result = pipeline.run();
        flinkJob = FlinkJobStatus.ofDetached(result, options);
        PipelineResult.State state = awaitWithProgress(result, plan, options, out, start, flinkJob);
        Map<String, Map<String, Long>> counters = Progress.counters(result);
        if (state != PipelineResult.State.DONE) {
          err.println("error: the pipeline " + FlinkJobStatus.ended(state, flinkJob) + "; " + commitStatus(plan));
          return new Outcome(1, plan, counters);
        }
        Progress.summary(out, plan, counters, snapshots(plan), Duration.between(start, Instant.now()));
        return new Outcome(0, plan, counters);
      }
    } catch (RuntimeException e) {
      boolean interrupted = interruptedBy(e) && Thread.interrupted(); // cleared while the tables are read for the status
      String how = !interrupted ? "the pipeline failed: " + rootMessage(e) + "; "
          : runsInThisJvm(options) ? "the pipeline was interrupted and cancelled; "
          : "the launcher was interrupted; the job goes on where it runs and commits when it ends (cancel it there"
              + " to stop it" + (flinkJob == null ? "" : ": " + flinkJob.uri()) + "); so far ";
      err.println("error: " + how + commitStatus(plan));
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      return new Outcome(1, plan, Map.of());
    }
  }

  /**
   * Whether the pipeline's workers are this JVM's threads, which an interrupted run stops: the
   * DirectRunner's (cancelled here) or an embedded Flink cluster's (which Flink stops when its
   * attached wait is interrupted).
   */
  private static boolean runsInThisJvm(IngestOptions options) {
    return DirectRunner.class.isAssignableFrom(options.getRunner()) || RunnerChecks.isEmbeddedFlink(options);
  }

  /** A continuous run ({@code --streaming=true}): until Ctrl-C, SIGTERM or a failure. */
  private static Outcome executeContinuous(Pipeline pipeline, IngestPlan plan, IngestOptions options, PrintStream out) {
    ContinuousPipeline.build(pipeline, plan, options);
    if (options.getDryRun()) {
      DryRun.print(pipeline, options, out);
      return new Outcome(0, plan, Map.of());
    }
    options.as(DirectOptions.class).setBlockOnRun(false);
    try (EmbeddedFlinkFiles flinkFiles = EmbeddedFlinkFiles.of(options, plan.runId())) {
      return new Outcome(new ContinuousRun(plan, options, out).run(pipeline), plan, Map.of());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Outcome(1, plan, Map.of());
    }
  }

  private static PipelineResult.State awaitWithProgress(
      PipelineResult result, IngestPlan plan, IngestOptions options, PrintStream out, Instant start,
      @Nullable FlinkJobStatus flinkJob) {
    Duration interval = Duration.ofSeconds(Math.max(1, options.getProgressIntervalSeconds()));
    PipelineResult.State state;
    try {
      while (!(state = waitFor(result, interval)).isTerminal()) {
        if (options.getProgressIntervalSeconds() > 0) {
          Progress.line(out, plan, Progress.counters(result), Duration.between(start, Instant.now()), flinkJob);
        }
      }
    } catch (RuntimeException e) {
      if (Thread.currentThread().isInterrupted()) {
        cancelInThisJvm(result);
      }
      throw e;
    }
    if (flinkJob != null) {
      flinkJob.awaitFinalView(Duration.ofSeconds(30));
    }
    return state;
  }

  /**
   * Whether a failed run committed, read from the tables: which of them hold a snapshot of this
   * run. When that cannot be read, says so rather than guess.
   */
  static String commitStatus(IngestPlan plan) {
    return commitStatus(plan.runId(), plan.catalog(), plan.tables().stream().map(PlannedTable::destination).toList());
  }

  static String commitStatus(String runId, CatalogConfig catalogConfig, List<Destination> destinations) {
    try {
      List<String> committed = new ArrayList<>();
      boolean everyTable = true;
      Catalog catalog = catalogConfig.load();
      for (Destination table : destinations) {
        committed(catalog, table.changeFeed(), runId, committed); // an SCD table's feed commits before it
        everyTable &= committed(catalog, table, runId, committed);
      }
      if (committed.isEmpty()) {
        return "nothing was committed";
      }
      return "run " + runId + " committed " + String.join(", ", committed) + (everyTable
          ? "" : " (each with its cursors; the next run reads the others on from their own cursors)");
    } catch (RuntimeException e) {
      return "whether run " + runId + " committed could not be checked (" + rootMessage(e)
          + "); the next run's summary shows each table's cursor";
    }
  }

  /** Whether run {@code runId} committed to {@code d}; if so, {@code d} is added to {@code committed}. */
  private static boolean committed(Catalog catalog, Destination d, String runId, List<String> committed) {
    if (catalog.tableExists(d.identifier())) {
      for (Snapshot s : catalog.loadTable(d.identifier()).snapshots()) {
        if (runId.equals(SnapshotSummary.runId(s))) {
          committed.add(d.key());
          return true;
        }
      }
    }
    return false;
  }

  /** Each table's current snapshot after the run, by destination key. */
  private static Map<String, Snapshot> snapshots(IngestPlan plan) {
    Map<String, Snapshot> snapshots = new HashMap<>();
    Catalog catalog = plan.catalog().load();
    for (PlannedTable t : plan.tables()) {
      Snapshot s = catalog.loadTable(t.destination().identifier()).currentSnapshot();
      if (s != null) {
        snapshots.put(t.destination().key(), s);
      }
    }
    return snapshots;
  }

  /**
   * Waits up to {@code interval} for the pipeline to end and returns its state.
   *
   * <p>Per runner: the DirectRunner (blockOnRun=false) and Dataflow return from {@code run()} at
   * once and {@code waitUntilFinish(duration)} waits. The FlinkRunner in attached mode (the
   * default, also for {@code [local]}) returns from {@code run()} only when the job has ended,
   * with a terminal state, so this returns immediately (no progress lines). With
   * {@code --attachedMode=false} (a cluster only) it returns a FlinkDetachedRunnerResult whose
   * {@code waitUntilFinish(duration)} logs a warning each time the duration passes; its
   * {@code getState()} asks the JobManager, so that is polled here and the exit code follows the
   * job's final state; the progress lines add the job's status ({@link FlinkJobStatus}). An
   * interrupt of that wait throws, the thread's interrupt status set.
   */
  static PipelineResult.State waitFor(PipelineResult result, Duration interval) {
    if (result.getClass().getName().equals("org.apache.beam.runners.flink.FlinkDetachedRunnerResult")) {
      long deadline = System.nanoTime() + interval.toNanos();
      PipelineResult.State state = detachedState(result);
      while (!state.isTerminal() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(Math.min(500, Math.max(1, interval.toMillis())));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for the detached Flink job", e);
        }
        state = detachedState(result);
      }
      return state;
    }
    PipelineResult.State state =
        result.waitUntilFinish(org.joda.time.Duration.millis(interval.toMillis()));
    return state == null ? result.getState() : state;
  }

  /** The detached job's state; an interrupt of its wait keeps the thread's interrupt status ({@link #interruptedBy}). */
  private static PipelineResult.State detachedState(PipelineResult result) {
    try {
      return result.getState();
    } catch (RuntimeException e) {
      interruptedBy(e);
      throw e;
    }
  }

  /**
   * Whether {@code e} ended a wait of this thread that an interrupt cut short, the thread's
   * interrupt status set again if so. Flink's waits (an attached run's, a detached result's state)
   * clear the status and wrap the InterruptedException once; a task's would be deeper, in the
   * job's failure.
   */
  private static boolean interruptedBy(RuntimeException e) {
    if (e.getCause() instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
    return Thread.currentThread().isInterrupted();
  }

  /**
   * Cancels the pipeline if it runs on this JVM's threads (the DirectRunner's), for a caller that
   * interrupted the run (an embedding application, a test's timeout): its workers must not go on
   * reading, and committing after the run has ended. Jobs elsewhere go on. Whether it cancelled.
   */
  static boolean cancelInThisJvm(PipelineResult result) {
    if (!(result instanceof DirectRunner.DirectPipelineResult)) {
      return false;
    }
    try {
      result.cancel();
    } catch (IOException | RuntimeException e) {
      // a cancelled DirectRunner pipeline may report its cancellation as a failure: it has stopped
    }
    return true;
  }

  /** The exception's own message, with its root cause's when that is not already in it. */
  private static String describe(RuntimeException e) {
    Throwable root = root(e);
    if (e.getMessage() == null) {
      return rootMessage(e);
    }
    return root == e || e.getMessage().contains(String.valueOf(root.getMessage())) ? e.getMessage()
        : e.getMessage() + " (" + rootMessage(e) + ")";
  }

  static Throwable root(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = root(e);
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
