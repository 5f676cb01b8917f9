package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.table.SnapshotSummary;
import com.example.source.ExampleSource;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bounded DirectRunner run whose launching thread is interrupted (an embedding application, or
 * JUnit's timeout of a run that hung) is cancelled: it reports that, its workers end, and it
 * commits nothing after saying so.
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

  private static void await(CountDownLatch latch) {
    try {
      assertTrue(latch.await(1, TimeUnit.MINUTES));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
