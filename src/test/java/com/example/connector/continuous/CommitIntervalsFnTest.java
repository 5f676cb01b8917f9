package com.example.connector.continuous;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** When {@link CommitIntervalsFn} commits, by this machine's clock. */
class CommitIntervalsFnTest {
  private static final Duration INTERVAL = Duration.ofSeconds(10);
  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

  @Test
  void aCommitIsDueAnIntervalAfterTheLastAttempt() {
    assertEquals(0, CommitIntervalsFn.waitMillis(null, NOW, INTERVAL), "the first batch commits at once");
    assertEquals(4_000, CommitIntervalsFn.waitMillis(NOW.minusSeconds(6).toEpochMilli(), NOW, INTERVAL));
    assertEquals(-5_000, CommitIntervalsFn.waitMillis(NOW.minusSeconds(15).toEpochMilli(), NOW, INTERVAL));
  }

  /**
   * The last attempt is an hour ahead of this machine's clock: the clock was set back an hour since
   * (an NTP step, a VM resumed), or the job resumed with its state on a machine an hour behind the
   * one that committed. The next commit is still due within an interval, not an hour and an interval
   * later, while every batch of the table waits in state.
   */
  @Test
  void aLastAttemptAheadOfThisMachinesClockHoldsTheNextCommitBackAtMostAnInterval() {
    long anHourAhead = NOW.plus(Duration.ofHours(1)).toEpochMilli();
    assertEquals(INTERVAL.toMillis(), CommitIntervalsFn.waitMillis(anHourAhead, NOW, INTERVAL));
  }
}
