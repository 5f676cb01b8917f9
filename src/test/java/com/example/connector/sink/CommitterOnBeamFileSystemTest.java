package com.example.connector.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.ScdType;
import com.example.connector.merge.MergeRule;
import com.example.connector.sink.StagedFile.Part;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Committer on an object store ({@code mem://}, see {@link MemFileSystem}): staging, commit
 * records, table files and state all go through Beam FileSystems, renames are copies then deletes,
 * and listings can fail. Run r1 commits one table file and one change feed file; run r2 replaces
 * the table with two files and adds one to the feed.
 */
class CommitterOnBeamFileSystemTest {
  @TempDir Path store;

  private final Destination users = new Destination("main", "example", "users");
  private static final MergeRule SCD1 = new MergeRule(ScdType.SCD_TYPE_1, List.of("user_id"), "updated_at", false);
  private static final String R1_CURSOR = "2024-01-01T00:00:00.000000+00:00";
  private static final String R2_CURSOR = "2024-02-01T00:00:00.000000+00:00";
  private final OutputLayout layout = new OutputLayout("mem://bucket/out");

  @BeforeEach
  void useStore() {
    MemFileSystem.root = store;
    MemFileSystem.reset();
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
  }

  @AfterEach
  void noFaults() {
    MemFileSystem.reset();
  }

  @Test
  void commitsThroughBeamFileSystems() throws Exception {
    int callsBefore = MemFileSystem.CALLS.get();
    Committer committer = new Committer(layout);
    commitR1(committer);
    committer.commit(planR2(committer), stageR2());

    assertR2Committed(committer);
    assertEquals(List.of(), committer.recover());
    assertFalse(Files.exists(Path.of("mem:")), "nothing went to a local path named after the URI");
    assertTrue(MemFileSystem.CALLS.get() > callsBefore, "the mem:// FileSystem was used");
  }

  @Test
  void aListingErrorFailsTheCommitAndChangesNothing() throws Exception {
    Committer committer = new Committer(layout);
    commitR1(committer);
    RunCommit r2 = planR2(committer);
    List<StagedFile> staged = stageR2();
    Map<String, String> before = objects();

    MemFileSystem.failListingsOf = "/_state/";
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> committer.commit(r2, staged));
    assertTrue(e.getMessage().contains("cannot list mem://bucket/out/_state/"), e.getMessage());
    UncheckedIOException stateError = assertThrows(UncheckedIOException.class, () -> committer.state(users));
    assertTrue(stateError.getMessage().contains(layout.stateFile(users)), stateError.getMessage());

    MemFileSystem.reset();
    assertEquals(before, objects(), "nothing moved, written or deleted");
    assertEquals("r1", committer.state(users).orElseThrow().lastRunId());
  }

  @Test
  void aListingErrorFailsRecoveryAndKeepsWhatACutShortCommitStaged() throws Exception {
    Committer committer = new Committer(layout);
    commitR1(committer);
    RunCommit r2 = planR2(committer);
    List<StagedFile> staged = stageR2();
    MemFileSystem.interruptAfterCopy(1); // r2 dies just past its commit point
    assertThrows(UncheckedIOException.class, () -> committer.commit(r2, staged));
    MemFileSystem.reset();
    Map<String, String> cutShort = objects();

    MemFileSystem.failListingsOf = "/_state/_commits/";
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> new Committer(layout).recover());
    assertTrue(e.getMessage().contains("cannot list " + layout.commitsDir() + "*.json"), e.getMessage());
    MemFileSystem.reset();
    assertEquals(cutShort, objects(), "the staged files of the committed run are kept");

    assertEquals(List.of("r2"), new Committer(layout).recover());
    assertR2Committed(committer);
  }

  /**
   * A commit interrupted between the copy and the delete of any of its renames (the commit record,
   * each of the three file moves, the state file) is finished by the next run's recovery. At 1,
   * the record was just written and recovery finds it by listing {@code _state/_commits/}: the
   * read-after-write listing the commit protocol relies on (see {@link Committer}).
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5})
  void aRenameInterruptedHalfwayIsCompletedByRecovery(int copies) throws Exception {
    Committer committer = new Committer(layout);
    commitR1(committer);
    RunCommit r2 = planR2(committer);
    List<StagedFile> staged = stageR2();
    MemFileSystem.interruptAfterCopy(copies);
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> committer.commit(r2, staged));
    assertTrue(e.getCause().getMessage().contains("interrupted after copying"), e.getCause().getMessage());
    MemFileSystem.reset();
    if (copies == 2) {
      assertTrue(objects().containsKey("bucket/out/main/example/users/r2-part-0.parquet"));
      assertTrue(objects().containsKey("bucket/out/_staging/r2/main.example.users/table/part-0.parquet"),
          "a rename is not atomic: both copies are visible in between");
    }

    assertEquals(List.of("r2"), new Committer(layout).recover());
    assertR2Committed(new Committer(layout));
    assertEquals(List.of(), new Committer(layout).recover(), "recovery is idempotent");
  }

  private void commitR1(Committer committer) throws Exception {
    List<StagedFile> staged = new ArrayList<>(stage("r1", Part.TABLE, "part-0.parquet", "r1 table"));
    staged.addAll(stage("r1", Part.CHANGES, "part-0.parquet", "r1 changes"));
    committer.commit(plan("r1", R1_CURSOR, List.of()), staged);
  }

  private RunCommit planR2(Committer committer) {
    return plan("r2", R2_CURSOR, committer.state(users).orElseThrow().tableFiles());
  }

  private List<StagedFile> stageR2() throws Exception {
    List<StagedFile> staged = new ArrayList<>(stage("r2", Part.TABLE, "part-0.parquet", "r2 table 0"));
    staged.addAll(stage("r2", Part.TABLE, "part-1.parquet", "r2 table 1"));
    staged.addAll(stage("r2", Part.CHANGES, "part-0.parquet", "r2 changes"));
    return staged;
  }

  /** The store holds r2's table, both runs' feed and r2's state, and nothing else. */
  private void assertR2Committed(Committer committer) throws Exception {
    Map<String, String> objects = objects();
    assertTrue(objects.remove("bucket/out/_state/main.example.users.json") != null, "the state");
    assertEquals(Map.of(
            "bucket/out/main/example/users/r2-part-0.parquet", "r2 table 0",
            "bucket/out/main/example/users/r2-part-1.parquet", "r2 table 1",
            "bucket/out/main/example/users/_changes/r1-part-0.parquet", "r1 changes",
            "bucket/out/main/example/users/_changes/r2-part-0.parquet", "r2 changes"),
        objects, "the table is r2's, the feed r1's and r2's; nothing staged, no commit record");
    TableState state = committer.state(users).orElseThrow();
    assertEquals("r2", state.lastRunId());
    assertEquals(Map.of("records", R2_CURSOR), state.cursors());
    assertEquals(List.of("r2-part-0.parquet", "r2-part-1.parquet"), state.tableFiles());
  }

  private RunCommit plan(String runId, String cursor, List<String> committedFiles) {
    TableState state = new TableState(users.key(), "users", "cdc", SCD1, Map.of("records", cursor),
        committedFiles, runId, cursor);
    return new RunCommit(runId, List.of(TableCommit.planned(users, state)));
  }

  private List<StagedFile> stage(String runId, Part part, String name, String content) throws Exception {
    String path = layout.stagingDir(runId, users, part) + name;
    try (OutputStream out = Channels.newOutputStream(
        FileSystems.create(FileSystems.matchNewResource(path, false), "application/octet-stream"))) {
      out.write(content.getBytes(StandardCharsets.UTF_8));
    }
    return List.of(new StagedFile(users.key(), part, path));
  }

  /** Every object in the store (path under the store, content), read past the file system. */
  private Map<String, String> objects() throws Exception {
    Map<String, String> objects = new TreeMap<>();
    try (Stream<Path> files = Files.walk(store)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        objects.put(store.relativize(f).toString().replace('\\', '/'), Files.readString(f));
      }
    }
    return objects;
  }
}
