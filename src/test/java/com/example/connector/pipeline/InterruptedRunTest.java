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

/**
 * A bounded DirectRunner run whose launching thread is interrupted (an embedding application, or
 * JUnit's timeout of a run that hung) is cancelled: it reports that, its workers end, and it
 * commits nothing after saying so. A launcher waiting on a detached Flink job stops waiting and
 * says that the job goes on.
 */
class InterruptedRunTest {
  @TempDir Path dir;

  @Test
  void anInterruptedRunIsCancelledAndCommitsNothingAfterItsFailure() throws Exception {
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
      Set<Thread> before = IngestHarness.directRunnerWorkers();
      AtomicReference<IngestMain.Outcome> outcome = new AtomicReference<>();
      Thread run = new Thread(() -> outcome.set(h.run(spec)), "interrupted-run");
      run.start();
      await(reading);

      run.interrupt();
      run.join(TimeUnit.MINUTES.toMillis(1));
      release.countDown();
      Set<Thread> started = IngestHarness.directRunnerWorkers();
      started.removeAll(before);
      for (Thread worker : started) {
        worker.join(TimeUnit.MINUTES.toMillis(1));
        assertFalse(worker.isAlive(), "a worker of the interrupted run still runs");
      }

      assertFalse(run.isAlive(), "the interrupted run did not return");
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
