package com.example.connector.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.ScdType;
import com.example.connector.merge.MergeRule;
import com.example.connector.sink.StagedFile.Part;
import com.example.connector.sink.TableCommit.Move;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commits at the file level: a run's table files replace (SCD) or add to (append) the committed
 * ones, its change feed only grows, cursors and manifest move with them; a run that dies
 * mid-commit is finished by the next, one that dies before commits nothing.
 */
class CommitterTest {
  @TempDir Path root;

  private final Destination users = new Destination("main", "example", "users");
  private static final MergeRule SCD1 = new MergeRule(ScdType.SCD_TYPE_1, List.of("user_id"), "updated_at", false);
  private static final MergeRule APPEND = new MergeRule(null, List.of(), "created_at", false);

  private OutputLayout layout() {
    return new OutputLayout(root.toString());
  }

  private RunCommit plan(String runId, String cursor, MergeRule merge, List<String> committedFiles) {
    TableState state = new TableState(users.key(), "users", "cdc", merge, Map.of("records", cursor),
        committedFiles, runId, cursor);
    return new RunCommit(runId, List.of(TableCommit.planned(users, state)));
  }

  private List<StagedFile> stage(String runId, Part part, String... names) throws Exception {
    List<StagedFile> staged = new ArrayList<>();
    for (String name : names) {
      Path file = Path.of(layout().stagingDir(runId, users, part)).resolve(name);
      Files.createDirectories(file.getParent());
      Files.writeString(file, runId);
      staged.add(new StagedFile(users.key(), part, file.toString()));
    }
    return staged;
  }

  private static List<String> files(String dir) throws Exception {
    Path path = Path.of(dir);
    if (!Files.isDirectory(path)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(path)) {
      return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static List<StagedFile> concat(List<StagedFile> a, List<StagedFile> b) {
    List<StagedFile> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  @Test
  void aMergedTableIsReplacedAndItsChangeFeedGrows() throws Exception {
    Committer committer = new Committer(layout());
    committer.commit(plan("r1", "2024-01-01T00:00:00.000000+00:00", SCD1, List.of()),
        concat(stage("r1", Part.TABLE, "part-0.parquet"), stage("r1", Part.CHANGES, "part-0.parquet")));
    assertEquals(List.of("r1-part-0.parquet"), files(layout().tableDir(users)));
    TableState first = committer.state(users).orElseThrow();
    assertEquals(List.of("r1-part-0.parquet"), first.tableFiles());
    assertEquals("2024-01-01T00:00:00.000000+00:00", first.cursors().get("records"));

    committer.commit(plan("r2", "2024-02-01T00:00:00.000000+00:00", SCD1, first.tableFiles()),
        concat(stage("r2", Part.TABLE, "part-0.parquet", "part-1.parquet"), stage("r2", Part.CHANGES, "part-0.parquet")));
    assertEquals(List.of("r2-part-0.parquet", "r2-part-1.parquet"), files(layout().tableDir(users)));
    assertEquals(List.of("r1-part-0.parquet", "r2-part-0.parquet"), files(layout().changesDir(users)));
    assertEquals(List.of("r2-part-0.parquet", "r2-part-1.parquet"), committer.state(users).orElseThrow().tableFiles());
    assertFalse(Files.exists(Path.of(layout().commitRecord("r2"))));
    assertEquals(List.of(), files(layout().stagingRoot()));
  }

  @Test
  void anAppendTableOnlyGrows() throws Exception {
    Committer committer = new Committer(layout());
    committer.commit(plan("r1", "2024-01-01T00:00:00.000000+00:00", APPEND, List.of()),
        stage("r1", Part.TABLE, "part-0.parquet"));
    committer.commit(plan("r2", "2024-02-01T00:00:00.000000+00:00", APPEND, committer.state(users).orElseThrow().tableFiles()),
        stage("r2", Part.TABLE, "part-0.parquet"));
    assertEquals(List.of("r1-part-0.parquet", "r2-part-0.parquet"), files(layout().tableDir(users)));
    assertEquals(List.of("r1-part-0.parquet", "r2-part-0.parquet"), committer.state(users).orElseThrow().tableFiles());
  }

  @Test
  void aRetriedCommitIsNotAppliedTwice() throws Exception {
    Committer committer = new Committer(layout());
    RunCommit run = plan("r1", "2024-01-01T00:00:00.000000+00:00", APPEND, List.of());
    List<StagedFile> staged = stage("r1", Part.TABLE, "part-0.parquet");
    committer.commit(run, staged);
    committer.commit(run, staged); // the staged files are gone now: a second resolve would empty the table
    assertEquals(List.of("r1-part-0.parquet"), committer.state(users).orElseThrow().tableFiles());
  }

  @Test
  void aCommitCutShortIsFinishedByTheNextRun() throws Exception {
    Committer first = new Committer(layout());
    first.commit(plan("r1", "2024-01-01T00:00:00.000000+00:00", SCD1, List.of()), stage("r1", Part.TABLE, "part-0.parquet"));
    // r2 died right after its commit point: the record is written, one of two moves done.
    List<StagedFile> staged = stage("r2", Part.TABLE, "part-0.parquet", "part-1.parquet");
    String table = layout().tableDir(users);
    TableState state = new TableState(users.key(), "users", "cdc", SCD1,
        Map.of("records", "2024-02-01T00:00:00.000000+00:00"),
        List.of("r2-part-0.parquet", "r2-part-1.parquet"), "r2", "2024-02-01T00:00:00.000000+00:00");
    RunCommit record = new RunCommit("r2", List.of(new TableCommit(users, state, List.of(
        new Move(staged.get(0).path(), table + "r2-part-0.parquet"),
        new Move(staged.get(1).path(), table + "r2-part-1.parquet")))));
    Path recordFile = Path.of(layout().commitRecord("r2"));
    Files.createDirectories(recordFile.getParent());
    Files.writeString(recordFile, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(record));
    Files.move(Path.of(staged.get(0).path()), Path.of(table + "r2-part-0.parquet"));

    Committer next = new Committer(layout());
    assertEquals(List.of("r2"), next.recover());
    assertEquals(List.of("r2-part-0.parquet", "r2-part-1.parquet"), files(table));
    assertEquals("r2", next.state(users).orElseThrow().lastRunId());
    assertFalse(Files.exists(recordFile));
    assertEquals(List.of(), next.recover(), "recovery is idempotent");
  }

  @Test
  void aRunThatDiedBeforeItsCommitLeavesNothing() throws Exception {
    Committer committer = new Committer(layout());
    committer.commit(plan("r1", "2024-01-01T00:00:00.000000+00:00", SCD1, List.of()), stage("r1", Part.TABLE, "part-0.parquet"));
    stage("r3", Part.TABLE, "part-0.parquet"); // staged, never committed
    stage("r3", Part.CHANGES, "part-0.parquet");

    assertEquals(List.of(), committer.recover());
    assertEquals(List.of("r1-part-0.parquet"), files(layout().tableDir(users)));
    assertEquals("r1", committer.state(users).orElseThrow().lastRunId());
    try (Stream<Path> s = Files.walk(Path.of(layout().stagingRoot()))) {
      assertTrue(s.noneMatch(Files::isRegularFile), "dead run's staged files deleted");
    }
  }

  @Test
  void stagedFilesThatVanishedFailTheCommitBeforeAnythingMoves() throws Exception {
    Committer committer = new Committer(layout());
    List<StagedFile> staged = stage("r1", Part.TABLE, "part-0.parquet", "part-1.parquet");
    Files.delete(Path.of(staged.get(1).path())); // as another run's recovery would
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> committer.commit(plan("r1", "2024-01-01T00:00:00.000000+00:00", SCD1, List.of()), staged));
    assertTrue(e.getMessage().contains("another run started on the same output root"), e.getMessage());
    assertTrue(committer.state(users).isEmpty());
    assertEquals(List.of(), files(layout().tableDir(users)));
  }
}
