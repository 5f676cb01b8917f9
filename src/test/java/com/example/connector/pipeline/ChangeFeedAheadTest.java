package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.example.connector.table.SnapshotSummary;
import com.example.source.ExampleSource;
import com.example.testing.TestClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A change feed committed ahead of its table, as a run leaves it that died between the two
 * commits (the feed is committed first): the next run completes the table and keeps the feed as
 * it is. {@code CrashFileSystemTest} kills real runs there; these set up what such a run left in
 * ways a kill cannot choose.
 */
class ChangeFeedAheadTest {
  @TempDir Path dir;

  @Test
  void aChangeFeedAheadOfItsTableKeepsItsCursor() {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("s.json", "\"source_table\": \"users\"");
      h.runOk(spec);
      // As a run leaves it that committed the feed and died before the table, its cap later than
      // the next run's (a source clock that went back): the feed holds the rows up to its cursor.
      String ahead = "2100-01-01T00:00:00.000000+00:00";
      h.table("users__changes").newAppend().set(SnapshotSummary.RUN_ID, "killed")
          .set(SnapshotSummary.CURSOR_PREFIX + "records", ahead).commit();
      clock.advance(Duration.ofSeconds(2));

      h.runOk(spec);

      assertEquals(Map.of("records", ahead), h.cursors("users__changes"), "the feed's cursor did not move back");
      assertEquals(37, h.changes("users").size());
    }
  }

  @Test
  void aSnapshotTablesChangeFeedAheadOfItsTableIsReadIntoAsEveryRun() {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("s.json", "\"source_table\": \"products\"");
      h.runOk(spec);
      // As a continuous run leaves it that committed the feed's snapshot and died before the table.
      h.table("products__changes").newAppend().set(SnapshotSummary.RUN_ID, "killed")
          .set(SnapshotSummary.CURSOR_PREFIX + "snapshot", "2100-01-01T00:00:00.000000+00:00").commit();
      clock.advance(Duration.ofSeconds(2));

      String run2 = h.runOk(spec).plan().runId();

      assertEquals(53, h.rows("products").size());
      assertEquals(53, h.column("products", "product_id", run2).size(), "the feed took the run's snapshot");
    }
  }
}
