package com.example.crash;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.pipeline.ChildRun;
import com.example.source.ExampleSource;
import com.example.testing.ChildProcess;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bounded crash trials' verdict ({@link CrashTrials#bounded}), with the real main for every
 * run but the two concurrent ones, which a stand-in replaces.
 */
class CrashTrialsTest {
  private static final long ROWS = 30;

  @TempDir Path dir;

  /**
   * Of two runs on one table one commits (README, Tables): two concurrent runs that both fail,
   * each naming a table and saying to run again, are a failed trial, though the final run then
   * leaves the tables equal to the source.
   */
  @Test
  void twoConcurrentRunsThatBothFailAreAFailedTrial() throws Exception {
    try (ExampleSource source = CrashTrials.source(ROWS, false)) {
      CrashTrials trials = new CrashTrials(source, dir, 3, false, CrashTrials.Runner.DIRECT, (jvmOptions, args, log) ->
          log.getFileName().toString().startsWith("concurrent-")
              ? List.of("sh", "-c", "echo 'error: table main.example.users__changes moved on under this run; run again; nothing was committed'; exit 1")
              : ChildProcess.java(log.resolveSibling(log.getFileName() + ".args"), jvmOptions, ChildRun.MAIN, args));
      assertTrue(trials.bounded(0, false, ROWS, 3, System.nanoTime()), "the trial is wrong");
    }
  }
}
