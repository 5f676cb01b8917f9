package com.example.connector.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run that dies mid-commit is finished by the next; one that dies before commits nothing. */
class CommitterTest {
  @TempDir Path root;

  private final Destination users = new Destination("main", "example", "users");

  private RunCommit run(String runId, String cursor) {
    TableState state = new TableState(users.key(), "users", "cdc", Map.of("records", cursor), runId, cursor);
    return new RunCommit(runId, List.of(new TableCommit(users, false, state)));
  }

  private void stage(OutputLayout layout, String runId, String name) throws Exception {
    Path file = Path.of(layout.stagingDir(runId, users)).resolve(name);
    Files.createDirectories(file.getParent());
    Files.writeString(file, runId);
  }

  private List<String> tableFiles(OutputLayout layout) throws Exception {
    Path dir = Path.of(layout.tableDir(users));
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void commitMovesStagedFilesAndStoresCursorsTogether() throws Exception {
    OutputLayout layout = new OutputLayout(root.toString());
    Committer committer = new Committer(layout);
    stage(layout, "r1", "part-0.parquet");
    committer.commit(run("r1", "2024-01-01T00:00:00.000000+00:00"));
    assertEquals(List.of("r1-part-0.parquet"), tableFiles(layout));
    assertEquals("2024-01-01T00:00:00.000000+00:00", committer.state(users).orElseThrow().cursors().get("records"));
    assertFalse(Files.exists(Path.of(layout.commitRecord("r1"))));
  }

  @Test
  void aCommitCutShortIsFinishedByTheNextRun() throws Exception {
    OutputLayout layout = new OutputLayout(root.toString());
    stage(layout, "r2", "part-0.parquet");
    stage(layout, "r2", "part-1.parquet");
    // The run died right after its commit point: the record is written, nothing applied yet.
    Path record = Path.of(layout.commitRecord("r2"));
    Files.createDirectories(record.getParent());
    Files.writeString(record, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(run("r2", "2024-02-01T00:00:00.000000+00:00")));

    Committer next = new Committer(layout);
    assertEquals(List.of("r2"), next.recover());
    assertEquals(List.of("r2-part-0.parquet", "r2-part-1.parquet"), tableFiles(layout));
    assertEquals("r2", next.state(users).orElseThrow().lastRunId());
    assertFalse(Files.exists(record));
    assertEquals(List.of(), next.recover(), "recovery is idempotent");
  }

  @Test
  void aRunThatDiedBeforeItsCommitLeavesNothing() throws Exception {
    OutputLayout layout = new OutputLayout(root.toString());
    Committer committer = new Committer(layout);
    stage(layout, "r1", "part-0.parquet");
    committer.commit(run("r1", "2024-01-01T00:00:00.000000+00:00"));
    stage(layout, "r3", "part-0.parquet"); // staged, never committed

    assertEquals(List.of(), committer.recover());
    assertEquals(List.of("r1-part-0.parquet"), tableFiles(layout));
    assertEquals("r1", committer.state(users).orElseThrow().lastRunId());
    try (Stream<Path> s = Files.walk(Path.of(layout.stagingRoot()))) {
      assertTrue(s.noneMatch(Files::isRegularFile), "dead run's staged files deleted");
    }
  }
}
