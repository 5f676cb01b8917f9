package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
