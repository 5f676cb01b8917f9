package com.example.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.pipeline.ChildRun;
import com.example.source.ExampleSource;
import com.example.testing.ChildProcess;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A continuous run ({@code --streaming=true}, a child JVM on the DirectRunner) killed with SIGKILL
 * at three random moments while the source takes writes over HTTP (user and order updates, new
 * users, orders and events, order deletes) and fails 3% of calls, started again each time, then
 * caught up and stopped with SIGTERM: it exits 0 after a final commit, and nothing is lost or
 * doubled. The tables are checked against the source's own rows read over HTTP at the end, and
 * {@code users_history} (SCD type 2) against the versions the source answered the writes with
 * ({@link CrashTrials#continuous}, whose table {@code CrashTrials --continuous} prints).
 */
class ContinuousCrashTest {
  private static final long SEED = 20_261_202L;
  /** Seed rows of users, orders and events each: more users than the rounds of writes update. */
  private static final long ROWS = 300;

  @TempDir Path dir;

  @Test
  void killedAndRestartedUnderWritesLosesAndDoublesNothing() throws Exception {
    long started = System.nanoTime();
    try (ExampleSource source = CrashTrials.source(ROWS, true)) {
      CrashTrials trials = new CrashTrials(source, dir, SEED, true, CrashTrials.Runner.DIRECT,
          (jvmOptions, args, log) -> ChildProcess.java(log.resolveSibling(log.getFileName() + ".args"), jvmOptions,
              ChildRun.MAIN, args));
      CrashTrials.ContinuousOutcome outcome = trials.continuous(3);
      trials.print(outcome, SEED, ROWS, started);

      assertEquals(List.of(137, 137, 137), outcome.kills().stream().map(CrashTrials.Kill::exitCode).toList(),
          "each run killed by SIGKILL");
      assertTrue(outcome.caughtUpMs() >= 0, "the final run caught up with the source");
      assertEquals(0, outcome.finalExit(), outcome.finalOutput());
      assertTrue(outcome.finalOutput().contains(CrashTrials.STOPPED), outcome.finalOutput());
      assertEquals(List.of(), outcome.checks().stream().filter(c -> !c.ok()).toList(), "tables with rows lost or doubled");
      // The writes reached the tables: more user versions than users, order tombstones in the change feed.
      assertTrue(outcome.rounds() >= 10, "rounds of writes: " + outcome.rounds());
      assertTrue(expected(outcome, CrashCheck.HISTORY) > expected(outcome, "users"), outcome.checks()::toString);
    }
  }

  private static long expected(CrashTrials.ContinuousOutcome outcome, String table) {
    return outcome.checks().stream().filter(c -> c.table().equals(table)).findFirst().orElseThrow().expected();
  }
}
