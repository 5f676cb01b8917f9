package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.continuous.StopSignal;
import com.example.connector.table.CatalogConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.beam.runners.dataflow.DataflowPipelineJob;
import org.apache.beam.runners.dataflow.options.DataflowPipelineOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.PipelineRunner;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a continuous run's launcher ends when its job ends elsewhere. A job whose runner returns from
 * {@code run()} at once (Dataflow, detached Flink) is stopped with the runner's own tools: Dataflow's
 * drain ends it {@code DONE} (Beam maps {@code JOB_STATE_DRAINED} to {@code DONE}), an update
 * ({@code --update}) ends the old job {@code UPDATED}; neither is a failure.
 */
class ContinuousRunEndTest {
  @TempDir Path dir;

  /** The state the stand-in runner's job ends in. */
  private static volatile PipelineResult.State ended;

  /** A runner whose job has ended as {@link #ended} says by the time {@code run()} returns, as a drained job has. */
  public static final class EndedRunner extends PipelineRunner<PipelineResult> {
    public static EndedRunner fromOptions(PipelineOptions options) {
      return new EndedRunner();
    }

    @Override
    public PipelineResult run(Pipeline pipeline) {
      PipelineResult.State state = ended;
      return new PipelineResult() {
        @Override
        public State getState() {
          return state;
        }

        @Override
        public State cancel() {
          throw new UnsupportedOperationException("the job has ended");
        }

        @Override
        public State waitUntilFinish(org.joda.time.Duration duration) {
          return state;
        }

        @Override
        public State waitUntilFinish() {
          return state;
        }

        @Override
        public MetricResults metrics() {
          throw new UnsupportedOperationException();
        }
      };
    }
  }

  /** A Dataflow job that runs on: its launcher is stopped (Ctrl-C) as {@code run()} returns. */
  public static final class RunningDataflowJob extends DataflowPipelineJob {
    static volatile boolean cancelled;

    RunningDataflowJob(DataflowPipelineOptions options) {
      super(null, "2026-01-01_00_00_00-1234", options, Map.of());
    }

    @Override
    public State getState() {
      return cancelled ? State.CANCELLED : State.RUNNING;
    }

    @Override
    public State waitUntilFinish(org.joda.time.Duration duration) {
      return null; // still running after the wait
    }

    @Override
    public State cancel() {
      cancelled = true;
      return State.CANCELLED;
    }
  }

  /** A runner whose Dataflow job runs on, and whose launcher gets Ctrl-C as it is submitted. */
  public static final class StoppedLauncherRunner extends PipelineRunner<PipelineResult> {
    private final DataflowPipelineOptions options;

    private StoppedLauncherRunner(DataflowPipelineOptions options) {
      this.options = options;
    }

    public static StoppedLauncherRunner fromOptions(PipelineOptions options) {
      return new StoppedLauncherRunner(options.as(DataflowPipelineOptions.class));
    }

    @Override
    public PipelineResult run(Pipeline pipeline) {
      StopSignal.request();
      return new RunningDataflowJob(options);
    }
  }

  @AfterEach
  void clearStop() {
    StopSignal.reset();
  }

  /**
   * Ctrl-C stops the launcher of a Dataflow job, not the job: its committers run on Dataflow's
   * workers and never see the stop, so there is no final commit to wait for, and the job goes on
   * until it is drained. (The launcher waited for that commit, said the tables had not committed
   * in time, exit 1, and cancelled the job.)
   */
  @Test
  void ctrlCLeavesADataflowJobRunning() throws Exception {
    RunningDataflowJob.cancelled = false;
    IngestOptions options = PipelineOptionsFactory.fromArgs("--progressIntervalSeconds=0").as(IngestOptions.class);
    options.setRunner(StoppedLauncherRunner.class);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int exit = new ContinuousRun(plan(), options, new PrintStream(out, true, StandardCharsets.UTF_8))
        .run(Pipeline.create(options));
    String printed = out.toString(StandardCharsets.UTF_8);
    assertFalse(RunningDataflowJob.cancelled, printed);
    assertEquals(0, exit, printed);
    assertTrue(printed.contains("The job goes on running on Dataflow"), printed);
  }

  private IngestPlan plan() {
    return new IngestPlan("20260101T000000Z-abcdef", Instant.EPOCH, "2026-01-01T00:00:00Z",
        CatalogConfig.hadoop(dir.toString()), List.of());
  }

  @Test
  void aJobDrainedOrUpdatedElsewhereEndsTheLauncherWithExitCode0() throws Exception {
    for (PipelineResult.State state : List.of(PipelineResult.State.DONE, PipelineResult.State.UPDATED)) {
      ended = state;
      IngestOptions options = PipelineOptionsFactory.fromArgs("--progressIntervalSeconds=0").as(IngestOptions.class);
      options.setRunner(EndedRunner.class);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int exit = new ContinuousRun(plan(), options, new PrintStream(out, true, StandardCharsets.UTF_8))
          .run(Pipeline.create(options));
      String printed = out.toString(StandardCharsets.UTF_8);
      assertEquals(0, exit, state + ": " + printed);
      assertTrue(!printed.contains("error"), state + ": " + printed);
    }
  }
}
