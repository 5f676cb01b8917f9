package com.example.connector.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.ScdType;
import com.example.connector.merge.MergeRule;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Committer on a non-local scheme ({@code mem://}, a test FileSystem standing in for
 * {@code gs://}): staging, commit records, table files and state all go through Beam FileSystems.
 */
class CommitterOnBeamFileSystemTest {
  @TempDir Path store;

  private final Destination users = new Destination("main", "example", "users");

  @Test
  void commitsAndRecoversThroughBeamFileSystems() throws Exception {
    MemFileSystem.root = store;
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
    int callsBefore = MemFileSystem.CALLS.get();
    OutputLayout layout = new OutputLayout("mem://bucket/out");
    Committer committer = new Committer(layout);

    List<StagedFile> staged = new java.util.ArrayList<>();
    for (String name : List.of("part-0.parquet", "part-1.parquet")) {
      String path = layout.stagingDir("r1", users, StagedFile.Part.TABLE) + name;
      try (OutputStream out = Channels.newOutputStream(FileSystems.create(
          FileSystems.matchNewResource(path, false), "application/octet-stream"))) {
        out.write(name.getBytes(StandardCharsets.UTF_8));
      }
      staged.add(new StagedFile(users.key(), StagedFile.Part.TABLE, path));
    }
    TableState state = new TableState(users.key(), "users", "cdc",
        new MergeRule(ScdType.SCD_TYPE_1, List.of("user_id"), "updated_at", false),
        Map.of("records", "2024-01-01T00:00:00.000000+00:00"), List.of(), "r1",
        "2024-01-01T00:00:00.000000+00:00");
    committer.commit(new RunCommit("r1", List.of(TableCommit.planned(users, state))), staged);

    assertEquals(List.of("r1-part-0.parquet", "r1-part-1.parquet"),
        localFiles(store.resolve("bucket/out/main/example/users")));
    assertTrue(java.nio.file.Files.isRegularFile(store.resolve("bucket/out/_state/" + users.key() + ".json")));
    assertEquals("r1", committer.state(users).orElseThrow().lastRunId());
    assertEquals(List.of(), committer.recover());
    assertFalse(java.nio.file.Files.exists(Path.of("mem:")), "nothing went to a local path named after the URI");
    assertTrue(MemFileSystem.CALLS.get() > callsBefore, "the mem:// FileSystem was used");
  }

  private static List<String> localFiles(Path dir) throws Exception {
    try (Stream<Path> s = java.nio.file.Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
