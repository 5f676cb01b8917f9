package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.junit.jupiter.api.Assertions.assertThrows;

import com.example.connector.table.SnapshotSummary;
import com.example.source.ExampleSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.apache.beam.runners.flink.DetachedResults;
import org.apache.beam.sdk.PipelineResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.DiscardingSink;
import org.apache.flink.streaming.api.functions.source.SourceFunction;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A bounded run whose launching thread is interrupted (an embedding application, or JUnit's
 * timeout of a run that hung) on the DirectRunner or Flink embedded is cancelled: it reports that,
 * its workers end, and it commits nothing after saying so. A launcher waiting on a detached Flink job stops waiting and
 * says that the job goes on.
 */
class InterruptedRunTest {
  private static final Pattern FLINK_TASK = Pattern.compile(".* \\(\\d+/\\d+\\)#\\d+");

  @TempDir Path dir;

  /**
   * On the DirectRunner the run cancels its pipeline itself; on Flink embedded (attached) Flink
   * stops the cluster when the launcher's wait is interrupted. Either way the run's workers (the
   * DirectRunner's threads, Flink's task threads) end with the read still held at the source, and
   * nothing is committed once it is released.
   */
  @ParameterizedTest
  @CsvSource({"direct, DirectRunner", "flink-local, FlinkRunner"})
  void anInterruptedRunIsCancelledAndCommitsNothingAfterItsFailure(String runnerConfig, String runner) throws Exception {
    CountDownLatch reading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      source.setRequestListener((method, path, query) -> {
        if (path.equals("/tables/users/records")) { // the pipeline's read, not the planning
          reading.countDown();
          await(release);
        }
      });
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("s.json", "\"source_table\": \"users\"");
      Set<Thread> before = workers();
      AtomicReference<IngestMain.Outcome> outcome = new AtomicReference<>();
      Thread run = new Thread(() -> outcome.set(h.run(spec, "--runnerConfig=runner-configs/" + runnerConfig,
          "--runner=" + runner)), "interrupted-run");
      run.start();
      await(reading);
      assertFalse(workersSince(before).isEmpty(), "no worker thread of the run found");

      run.interrupt();
      run.join(TimeUnit.MINUTES.toMillis(1));
      assertFalse(run.isAlive(), "the interrupted run did not return");
      release.countDown();
      // Until no worker of the run is left: a job that went on would start new ones, up to its commit.
      for (Set<Thread> left = workersSince(before); !left.isEmpty(); left = workersSince(before)) {
        for (Thread worker : left) {
          worker.join(TimeUnit.MINUTES.toMillis(1));
          assertFalse(worker.isAlive(), "a worker of the interrupted run still runs: " + worker.getName());
        }
      }

      Table users = h.table("users");
      if (users != null) {
        for (Snapshot s : users.snapshots()) {
          assertFalse(outcome.get().plan().runId().equals(SnapshotSummary.runId(s)), "the run committed after it failed");
        }
      }
      assertEquals(1, outcome.get().exitCode());
      assertTrue(h.lastErr.contains("error: the pipeline was interrupted and cancelled; nothing was committed"), h.lastErr);
    }
  }

  /** The pipelines' worker threads alive now that are not in {@code before}. */
  private static Set<Thread> workersSince(Set<Thread> before) {
    Set<Thread> workers = workers();
    workers.removeAll(before);
    return workers;
  }

  /**
   * The threads that run pipelines in this JVM: the DirectRunner's workers; an embedded Flink
   * cluster's tasks ("NAME (1/2)#0") and its own threads ("flink-..."), which live as long as the
   * cluster, so that a job going on between two stages is still seen.
   */
  private static Set<Thread> workers() {
    Set<Thread> workers = IngestHarness.directRunnerWorkers();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (FLINK_TASK.matcher(t.getName()).matches() || t.getName().startsWith("flink-")) {
        workers.add(t);
      }
    }
    return workers;
  }

  /**
   * Interrupted while it waited on a detached Flink job, the launcher said "the pipeline failed:
   * Fail to get flink job state": Beam's detached result wraps the interrupt and clears the
   * thread's interrupt status, so the run could not tell it from a failed job. The wait now throws
   * with the status set, and the run says the job goes on. The job: an idle one on an embedded
   * cluster, the interrupt already pending when the wait starts.
   */
  @Test
  void aWaitOnADetachedFlinkJobThatIsInterruptedEndsAndKeepsTheInterrupt() throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1);
    env.addSource(new Idle()).addSink(new DiscardingSink<>());
    JobClient job = env.executeAsync("idle");
    try {
      PipelineResult detached = DetachedResults.of(job);
      Thread.currentThread().interrupt();
      assertThrows(RuntimeException.class, () -> IngestMain.waitFor(detached, Duration.ofMinutes(1)));
      assertTrue(Thread.interrupted(), "the interrupt is kept");
    } finally {
      job.cancel().get();
    }
  }

  /** A source that emits nothing until it is cancelled. */
  private static final class Idle implements SourceFunction<Long> {
    private volatile boolean running = true;

    @Override
    public void run(SourceContext<Long> out) throws InterruptedException {
      while (running) {
        Thread.sleep(20);
      }
    }

    @Override
    public void cancel() {
      running = false;
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      assertTrue(latch.await(1, TimeUnit.MINUTES));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
