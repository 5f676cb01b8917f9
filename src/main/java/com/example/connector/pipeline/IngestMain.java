package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.source.ExampleSource;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * Runs one ingestion: validates the spec, connection and options against the source, builds the
 * pipeline, runs it on the configured runner with a progress line, and prints a summary.
 *
 * <p>Exit codes: 0 committed, 1 the pipeline failed (nothing committed), 2 bad configuration
 * (nothing read).
 */
public final class IngestMain {

  /** What a run did, for callers that run it in-process (tests, benchmarks). */
  public record Outcome(int exitCode, IngestPlan plan, Map<String, Map<String, Long>> counters) {}

  private IngestMain() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err).exitCode());
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
    PipelineOptionsFactory.register(IngestOptions.class);
    IngestOptions options;
    ExampleSource embedded = null;
    IngestPlan plan = null;
    try {
      String[] merged = RunnerConfig.merge(args);
      options = PipelineOptionsFactory.fromArgs(merged).withValidation().as(IngestOptions.class);
      relaxDirectRunnerChecks(options.as(DirectOptions.class), merged);
      if (options.getSpec() == null) {
        throw new ConfigurationException(
            "--spec is required: the pipeline spec to run, e.g. --spec=pipelines/example_ingest.json");
      }
      Path specFile = Path.of(options.getSpec());
      PipelineSpec spec = PipelineSpec.load(specFile);
      Path connectionsDir = specFile.toAbsolutePath().getParent().resolve("connections");
      Connection connection =
          Connection.resolve(
              spec.connectionName(),
              connectionsDir,
              options.getConnection() == null ? null : Path.of(options.getConnection()));
      RunnerChecks.check(options, connection);
      URI baseUrl = connection.baseUrl();
      if (baseUrl == null) {
        embedded = ExampleSource.builder().port(0).start();
        baseUrl = embedded.baseUrl();
        out.println("Connection '" + connection.name() + "' has no base_url: started the embedded Example source at " + baseUrl);
      }
      SourceConfig source =
          new SourceConfig(
              baseUrl,
              connection.username(),
              connection.password(),
              new RetryPolicy(
                  options.getRetryMaxAttempts(),
                  Duration.ofMillis(options.getRetryInitialBackoffMillis()),
                  Duration.ofMillis(Math.max(options.getRetryInitialBackoffMillis(), 30_000))));
      FileSystems.setDefaultPipelineOptions(options);
      Instant start = Instant.now();
      plan = IngestPlanner.plan(spec, options.getSpec(), connection, source, options, start);
      out.println("Run " + plan.runId() + ": " + plan.tables().size() + (plan.tables().size() == 1 ? " table" : " tables") + " from " + baseUrl
          + ", cursors capped at " + plan.cap() + "; writing under " + plan.layout().root() + "/");

      Pipeline pipeline = Pipeline.create(options);
      IngestPipeline.build(pipeline, plan);
      if (options.getDryRun()) {
        DryRun.print(pipeline, options, out);
        return new Outcome(0, plan, Map.of());
      }
      options.as(DirectOptions.class).setBlockOnRun(false);
      PipelineResult result = pipeline.run();
      FlinkJobStatus flinkJob = FlinkJobStatus.ofDetached(result, options);
      Duration interval = Duration.ofSeconds(Math.max(1, options.getProgressIntervalSeconds()));
      PipelineResult.State state;
      while (!(state = waitFor(result, interval)).isTerminal()) {
        if (options.getProgressIntervalSeconds() > 0) {
          Progress.line(out, plan, Progress.counters(result), Duration.between(start, Instant.now()), flinkJob);
        }
      }
      Map<String, Map<String, Long>> counters = Progress.counters(result);
      if (state != PipelineResult.State.DONE) {
        err.println("error: the pipeline ended " + state + "; nothing was committed");
        return new Outcome(1, plan, counters);
      }
      Progress.summary(out, plan, counters, Duration.between(start, Instant.now()));
      return new Outcome(0, plan, counters);
    } catch (ConfigurationException | IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      return new Outcome(2, plan, Map.of());
    } catch (RuntimeException e) {
      err.println("error: the pipeline failed; nothing was committed: " + rootMessage(e));
      return new Outcome(1, plan, Map.of());
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
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
   * job's final state; the progress lines add the job's status ({@link FlinkJobStatus}).
   */
  private static PipelineResult.State waitFor(PipelineResult result, Duration interval) {
    if (result.getClass().getName().equals("org.apache.beam.runners.flink.FlinkDetachedRunnerResult")) {
      long deadline = System.nanoTime() + interval.toNanos();
      PipelineResult.State state = result.getState();
      while (!state.isTerminal() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(Math.min(500, Math.max(1, interval.toMillis())));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return result.getState();
        }
        state = result.getState();
      }
      return state;
    }
    PipelineResult.State state =
        result.waitUntilFinish(org.joda.time.Duration.millis(interval.toMillis()));
    return state == null ? result.getState() : state;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
