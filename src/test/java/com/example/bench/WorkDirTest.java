package com.example.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A benchmark's scratch directory: gone once everything is measured, kept for the logs of a failure. */
class WorkDirTest {

  @Test
  void aMeasuredBenchmarksDirectoryIsRemovedWithWhatItHolds() throws Exception {
    Path path;
    try (WorkDir work = WorkDir.create("workdir-test")) {
      path = work.path();
      Files.writeString(Files.createDirectories(path.resolve("20ms/output/data")).resolve("f.parquet"), "rows");
      Files.writeString(path.resolve("20ms/flink.log"), "log");
      work.measured();
    }
    assertFalse(Files.exists(path), path.toString());
  }

  @Test
  void aFailedBenchmarksDirectoryIsKeptForItsLogs() throws Exception {
    Path path = null;
    try (WorkDir work = WorkDir.create("workdir-test")) {
      path = work.path();
      Files.writeString(path.resolve("flink.log"), "the child failed");
      throw new IllegalStateException("pipeline, flink failed; see " + path.resolve("flink.log"));
    } catch (IllegalStateException expected) {
      assertTrue(Files.isRegularFile(path.resolve("flink.log")));
    } finally {
      Files.deleteIfExists(path.resolve("flink.log"));
      Files.deleteIfExists(path);
    }
  }
}
