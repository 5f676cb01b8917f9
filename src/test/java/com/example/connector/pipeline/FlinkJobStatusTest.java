package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The detached Flink job's status line, from a JobManager's GET /jobs/JOBID answer. */
class FlinkJobStatusTest {
  @Test
  void countsFinishedVertices() throws Exception {
    String job = "{\"jid\": \"abc\", \"state\": \"RUNNING\", \"vertices\": ["
        + "{\"id\": \"v1\", \"status\": \"FINISHED\"}, {\"id\": \"v2\", \"status\": \"RUNNING\"},"
        + " {\"id\": \"v3\", \"status\": \"CREATED\"}]}";
    assertEquals("Flink job RUNNING, 1/3 operators finished",
        FlinkJobStatus.describe(new ObjectMapper().readTree(job)));
  }

  @Test
  void aFailedJobIsToldByItsRootCause() {
    String trace = "org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy\n"
        + "\tat org.apache.flink.runtime.executiongraph.failover.ExecutionFailureHandler.handleFailure(X.java:1)\n"
        + "Caused by: org.apache.beam.sdk.util.UserCodeException: java.lang.IllegalStateException: users: HTTP 500\n"
        + "\tat org.apache.beam.sdk.util.UserCodeException.wrap(UserCodeException.java:39)\n"
        + "Caused by: java.lang.IllegalStateException: users: HTTP 500 after 1 attempt\n"
        + "\t... 12 more\n";
    assertEquals("IllegalStateException: users: HTTP 500 after 1 attempt", FlinkJobStatus.rootCause(trace));
    assertEquals("JobException: no cause", FlinkJobStatus.rootCause("org.apache.flink.runtime.JobException: no cause\n"));
    assertNull(FlinkJobStatus.rootCause(""));
  }
}
