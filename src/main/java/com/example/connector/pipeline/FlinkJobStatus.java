package com.example.connector.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.PipelineResult;
import org.apache.flink.core.execution.JobClient;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A detached Flink job's state as its JobManager's REST API reports it ({@code GET
 * /jobs/JOBID}): the job's status and how many of its operators (job vertices) have finished.
 *
 * <p>Why not the counters alone: Beam 2.62's Flink batch translation hands a task's Beam
 * metrics to Flink (the {@code __metricscontainers} accumulator behind the detached result's
 * {@code metrics()}) only when the task ends, so a table's counts stay 0 until its read has
 * finished; this says meanwhile that the job is alive and how far it is.
 */
final class FlinkJobStatus {
  private static final String DETACHED_RESULT = "org.apache.beam.runners.flink.FlinkDetachedRunnerResult";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> TERMINAL = Set.of("FINISHED", "FAILED", "CANCELED");

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final URI job;

  private FlinkJobStatus(URI job) {
    this.job = job;
  }

  /** The status of {@code result}'s job if it is a detached Flink job, else null. */
  static @Nullable FlinkJobStatus ofDetached(PipelineResult result, IngestOptions options) {
    if (!result.getClass().getName().equals(DETACHED_RESULT)) {
      return null;
    }
    String master = options.as(FlinkPipelineOptions.class).getFlinkMaster().replaceFirst("^[a-z]+://", "");
    return new FlinkJobStatus(URI.create("http://" + master + "/jobs/" + jobClient(result).getJobID()));
  }

  /** The job in the JobManager's REST API: {@code http://MASTER/jobs/JOB_ID}. */
  URI uri() {
    return job;
  }

  /** The detached result keeps its JobClient private; it is the only handle on the job's id. */
  private static JobClient jobClient(PipelineResult result) {
    try {
      Field field = result.getClass().getDeclaredField("jobClient");
      field.setAccessible(true);
      return (JobClient) field.get(result);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read the Flink job id of " + result + ": " + e, e);
    }
  }

  /** E.g. {@code Flink job RUNNING, 12/40 operators finished}; never throws. */
  String describe() {
    try {
      HttpResponse<String> response = get();
      if (response.statusCode() != 200) {
        return "Flink job: HTTP " + response.statusCode() + " from " + job;
      }
      return describe(JSON.readTree(response.body()));
    } catch (IOException e) {
      return "Flink job: no answer from " + job + " (" + e.getClass().getSimpleName() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "Flink job: interrupted";
    }
  }

  /**
   * Waits (at most {@code timeout}) until the JobManager's view of the job shows it ended. The
   * job's status ({@code getState()}) comes from the dispatcher, but its details and accumulators,
   * where the Beam metrics are, from a cached execution graph up to {@code web.refresh-interval}
   * (3 s) old: read right away, the summary missed the counts of the last tasks (seen: all 0).
   * Both views share one cache entry, so once this shows the end the metrics are final.
   */
  void awaitFinalView(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (System.nanoTime() < deadline) {
        HttpResponse<String> response = get();
        if (response.statusCode() == 200
            && TERMINAL.contains(JSON.readTree(response.body()).path("state").asText())) {
          return;
        }
        Thread.sleep(200);
      }
    } catch (IOException e) {
      // No view to wait for: the summary shows what the metrics hold.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Why the job failed, as its root cause's first line ({@code IllegalStateException: ...}), from
   * the JobManager's {@code GET /jobs/JOBID/exceptions}; null if it cannot say. A detached run's
   * launcher has no exception of its own to show.
   */
  @Nullable String failure() {
    try {
      HttpResponse<String> response = get(URI.create(job + "/exceptions"));
      return response.statusCode() == 200 ? rootCause(JSON.readTree(response.body()).path("root-exception").asText("")) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /**
   * How a job ended, for an error line: {@code ended STATE}, with the root cause of a detached
   * Flink job that failed ({@link #failure}).
   */
  static String ended(PipelineResult.State state, @Nullable FlinkJobStatus flinkJob) {
    String failure = state == PipelineResult.State.FAILED && flinkJob != null ? flinkJob.failure() : null;
    return "ended " + state + (failure == null ? "" : ": " + failure);
  }

  /** The last {@code Caused by:} of a stack trace as {@code SimpleName: message}, else its first line; null if empty. */
  static @Nullable String rootCause(String stackTrace) {
    String cause = null;
    for (String line : stackTrace.split("\\R")) {
      if (cause == null && !line.isBlank()) {
        cause = line;
      } else if (line.startsWith("Caused by: ")) {
        cause = line.substring("Caused by: ".length());
      }
    }
    return cause == null ? null : cause.replaceFirst("^(?:[\\w$]+\\.)+(?=[\\w$]+(?::|$))", "");
  }

  private HttpResponse<String> get() throws IOException, InterruptedException {
    return get(job);
  }

  private HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static String describe(JsonNode job) {
    int finished = 0;
    for (JsonNode vertex : job.path("vertices")) {
      finished += vertex.path("status").asText().equals("FINISHED") ? 1 : 0;
    }
    return "Flink job " + job.path("state").asText("?") + ", " + finished + "/"
        + job.path("vertices").size() + " operators finished";
  }
}
