package org.apache.beam.runners.flink;

import org.apache.beam.sdk.PipelineResult;
import org.apache.flink.core.execution.JobClient;

/** Beam's detached Flink result (its constructor is the runner's own) for a job a test started. */
public final class DetachedResults {
  private DetachedResults() {}

  public static PipelineResult of(JobClient job) {
    return new FlinkDetachedRunnerResult(job, 1);
  }
}
