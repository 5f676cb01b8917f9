package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.table.Maintenance;
import com.example.connector.table.SnapshotSummary;
import com.example.source.ExampleSource;
import com.example.testing.IcebergFiles;
import com.example.testing.TestClock;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots that other writers commit on the connector's tables (a row deleted in Spark, an
 * append, an expiry): they carry no cursors, and the next run reads on from the cursors of the
 * connector's last snapshot, neither from the start (which appended every event again) nor
 * losing what the other writer did.
 */
class ForeignCommitsTest {
  @TempDir Path dir;

  @Test
  void aRowDeletedByAnotherEngineMovesNoCursorAndStaysDeleted() {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("s.json", "\"source_table\": \"events\"", "\"source_table\": \"users\"");
      h.runOk(spec);
      String deletedEvent = deleteFirstRow(h, "events", "event_id");
      String deletedUser = deleteFirstRow(h, "users", "user_id");
      Set<String> changedUsers = new HashSet<>(Set.of("user_0002", "user_0003", "user_0004"));
      changedUsers.remove(deletedUser);
      changedUsers = Set.copyOf(List.copyOf(changedUsers).subList(0, 2));
      changedUsers.forEach(u -> source.upsert("users", Map.of("user_id", u, "email", "changed@example.com")));
      for (String id : List.of("00000000-0000-4000-8000-fffffffffff1", "00000000-0000-4000-8000-fffffffffff2",
          "00000000-0000-4000-8000-fffffffffff3")) {
        source.upsert("events", Map.of("event_id", id, "event_type", "click"));
      }
      clock.advance(Duration.ofSeconds(2));

      String run2 = h.runOk(spec).plan().runId();

      // By hand: 101 seeded events, one deleted by the other engine, three new.
      List<String> events = keys(h.rows("events"), "event_id");
      assertEquals(103, events.size(), "events: " + events.size());
      assertEquals(103, Set.copyOf(events).size(), "no event twice");
      assertTrue(!events.contains(deletedEvent), "the other engine's delete stays");
      assertEquals(3, h.column("events", "event_id", run2).size(), "run 2 read the new events only");
      // 37 seeded users, one deleted by the other engine; two changed at the source.
      List<String> users = keys(h.rows("users"), "user_id");
      assertEquals(36, users.size());
      assertTrue(!users.contains(deletedUser), "the deleted user is not read back");
      assertEquals(changedUsers, Set.copyOf(h.column("users", "user_id", run2)), "run 2 read the changed users only");
      assertEquals(37 + 2, h.changes("users").size());
      assertEquals(run2, SnapshotSummary.runId(h.table("events").currentSnapshot()));
    }
  }

  @Test
  void aTableWhoseConnectorSnapshotsWereExpiredIsRefusedAndLeftAsItWas() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("s.json", "\"source_table\": \"events\"");
      h.runOk(spec);
      deleteFirstRow(h, "events", "event_id");
      Table events = h.table("events");
      events.expireSnapshots().expireOlderThan(System.currentTimeMillis() + 1).retainLast(1).commit();
      long foreign = h.table("events").currentSnapshot().snapshotId();

      IngestMain.Outcome outcome = h.run(spec);

      assertEquals(1, outcome.exitCode(), h.lastOut + h.lastErr);
      assertTrue(h.lastErr.contains("main.example.events: no snapshot left in its history was committed by this"
          + " connector (its current one, " + foreign + ", by another writer"), h.lastErr);
      assertTrue(h.lastErr.contains("Drop the table and its change feed to load them again"), h.lastErr);
      assertEquals(foreign, h.table("events").currentSnapshot().snapshotId());
      assertEquals(100, h.rows("events").size());
    }
  }

  @Test
  void maintenanceKeepsTheSnapshotWhoseCursorsTheNextRunReadsOnFrom() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("s.json", "\"source_table\": \"events\"");
      h.runOk(spec);
      long connectors = h.table("events").currentSnapshot().snapshotId();
      // Two commits of another writer that add nothing to compact (an empty append each).
      h.table("events").newAppend().commit();
      h.table("events").newAppend().commit();

      // A target of one byte: every file is large enough, so nothing is compacted.
      Maintenance.maintain(h.table("events"),
          new Maintenance.Settings(1, Duration.ZERO, 1, Duration.ofDays(3), false), Clock.systemUTC());

      assertTrue(h.table("events").snapshot(connectors) != null, "the connector's last snapshot is kept");
      h.runOk(spec);
      assertEquals(101, h.rows("events").size(), "no event read again");
    }
  }

  /** Deletes the first row of the table's first data file as another engine would; its key. */
  private static String deleteFirstRow(IngestHarness h, String table, String key) {
    Set<String> before = Set.copyOf(keys(h.rows(table), key));
    Table t = h.table(table);
    DataFile first = t.currentSnapshot().addedDataFiles(t.io()).iterator().next();
    t.newRowDelta().addDeletes(IcebergFiles.positionDeletes(t, first, 0)).commit();
    Set<String> gone = new HashSet<>(before);
    gone.removeAll(keys(h.rows(table), key));
    assertEquals(1, gone.size(), table + ": one row deleted");
    return gone.iterator().next();
  }

  private static List<String> keys(List<GenericRecord> rows, String key) {
    return rows.stream().map(r -> r.get(key).toString()).toList();
  }
}
