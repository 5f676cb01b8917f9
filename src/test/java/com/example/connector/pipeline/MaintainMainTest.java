package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import com.example.testing.TestClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The maintenance command on the tables runs left (fewer files, the same rows, cursors kept), and
 * its bad options refused.
 */
class MaintainMainTest {
  @TempDir Path dir;

  @Test
  void compactsEveryTableOfTheSpecKeepingItsRowsAndCursors() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("s.json", "\"source_table\": \"users\"", "\"source_table\": \"events\"");
      h.runOk(spec);
      source.upsert("users", Map.of("user_id", "user_0003", "email", "changed@example.com"));
      source.upsert("events", Map.of("event_id", "event_extra"));
      clock.advance(Duration.ofSeconds(2)); // past the second the writes are stamped with
      h.runOk(spec);
      List<String> users = render(h.rows("users"));
      List<String> events = render(h.rows("events"));
      Map<String, String> cursors = h.cursors("users");
      assertTrue(files(h.table("users")) > 1 && deleteFiles(h.table("users")) > 0, "a merged table before");

      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int exit = MaintainMain.run(new String[] {"--spec=" + spec, "--outputRoot=" + h.output},
          new PrintStream(out, true), new PrintStream(err, true), Clock.systemUTC());
      String printed = out.toString(StandardCharsets.UTF_8);
      assertEquals(0, exit, printed + err.toString(StandardCharsets.UTF_8));
      for (String table : List.of("main.example.users:", "main.example.users__changes:", "main.example.events:")) {
        assertTrue(printed.contains(table), printed);
      }
      assertEquals(1, files(h.table("users")));
      assertEquals(0, deleteFiles(h.table("users")));
      assertEquals(1, files(h.table("events")));
      assertEquals(users, render(h.rows("users")));
      assertEquals(events, render(h.rows("events")));
      assertEquals(cursors, h.cursors("users"), "the next run reads on from the same cursors");
    }
  }

  /**
   * A dry run of a table that needs compacting says so, and that its counts are those before the
   * compaction a real run does first (whose snapshot pushes one more out of the last N kept, and
   * whose replaced files then go as orphans). It printed the line of a table already compact, and
   * the real run then expired and removed more than it said. Once compact, the dry run's counts
   * are the real run's.
   */
  @Test
  void aDryRunSaysItsCountsComeBeforeTheCompactionARealRunDoesFirst() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("s.json", "\"source_table\": \"users\"");
      h.runOk(spec);
      source.upsert("users", Map.of("user_id", "user_0003", "email", "changed@example.com"));
      clock.advance(Duration.ofSeconds(2)); // past the second the write is stamped with
      h.runOk(spec);
      Clock later = Clock.offset(Clock.systemUTC(), Duration.ofDays(30)); // every file and snapshot old enough

      String dry = maintainUsers(h, later, "--dryRun=true");
      String real = maintainUsers(h, later, "--dryRun=false");

      assertTrue(dry.endsWith("main.example.users (dry run, nothing changed): 2 data files, 1 delete files, which it"
          + " would compact; before that compaction, would expire 1 snapshots and remove 0 orphan files"), dry);
      assertTrue(real.endsWith("main.example.users: data files 2 -> 1, delete files 1 -> 0, 2 snapshots expired,"
          + " 3 orphan files removed"), real); // the 3 files compacted, unreferenced once their snapshots expired
      assertTrue(maintainUsers(h, later, "--dryRun=true").endsWith(
          "main.example.users (dry run, nothing changed): 1 data files, 0 delete files; would expire 0 snapshots and"
              + " remove 0 orphan files"));
      assertTrue(maintainUsers(h, later, "--dryRun=false").endsWith(
          "main.example.users: data files 1 -> 1, delete files 0 -> 0, 0 snapshots expired, 0 orphan files removed"));
    }
  }

  /** The line maintenance prints for the users table, keeping one snapshot of any age. */
  private static String maintainUsers(IngestHarness h, Clock clock, String dryRun) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = MaintainMain.run(new String[] {"--spec=" + h.dir.resolve("s.json"), "--outputRoot=" + h.output, dryRun,
        "--expireSnapshotsOlderThanHours=0", "--retainLastSnapshots=1"}, new PrintStream(out, true),
        new PrintStream(err, true), clock);
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, exit, printed + err.toString(StandardCharsets.UTF_8));
    return printed.lines().filter(l -> l.contains("main.example.users")).findFirst().orElseThrow(() -> new AssertionError(printed));
  }

  @Test
  void badOptionsAreRefusedBeforeAnyTableIsTouched() {
    String spec = "--spec=" + ProjectFiles.pipelines("minimal.json");
    String output = "--outputRoot=" + dir.resolve("out");
    assertRefused(2, "error: --spec is required", "--dryRun");
    assertRefused(2, "error: pipeline options: Class interface com.example.connector.pipeline.MaintainMain$MaintainOptions"
        + " missing a property named 'bogus'; see --help=MaintainOptions for the options", spec, "--bogus=1");
    assertRefused(2, "error: --retainLastSnapshots=0: must be at least 1; it is the number of recent snapshots",
        spec, output, "--retainLastSnapshots=0");
    assertRefused(2, "error: --orphanFilesOlderThanHours=23: must be at least 24; it is the age in hours past which"
        + " unreferenced files are removed: younger ones may be a running run's files", spec, output,
        "--orphanFilesOlderThanHours=23");
    assertRefused(2, "error: --catalogType=rest: a rest catalog needs its endpoint", spec, output, "--catalogType=rest");
    // Nothing listens on port 9 of loopback.
    assertRefused(1, "error: Iceberg catalog example{type=rest, uri=http://127.0.0.1:9/", spec, output,
        "--catalogType=rest", "--catalogUri=http://127.0.0.1:9/");
  }

  private static void assertRefused(int exit, String message, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = MaintainMain.run(args, new PrintStream(out, true), new PrintStream(err, true), Clock.systemUTC());
    String printed = err.toString(StandardCharsets.UTF_8);
    assertEquals(exit, code, printed);
    assertTrue(printed.startsWith(message), printed);
    assertEquals("", out.toString(StandardCharsets.UTF_8));
  }

  private static List<String> render(List<GenericRecord> rows) {
    return rows.stream().map(GenericRecord::toString).sorted().toList();
  }

  private static long files(Table table) throws Exception {
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      return StreamSupport.stream(tasks.spliterator(), false).count();
    }
  }

  private static long deleteFiles(Table table) throws Exception {
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      return StreamSupport.stream(tasks.spliterator(), false).mapToLong(t -> t.deletes().size()).sum();
    }
  }
}
