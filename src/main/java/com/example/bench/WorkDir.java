package com.example.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.util.FileUtils;

/**
 * A benchmark's scratch directory (its sources' specs, the runs' tables and logs): removed when
 * the benchmark has {@link #measured} everything, kept when it failed, for the logs its error
 * names. A benchmark run again and again must not fill the disk (each of the ingest and merge
 * benchmarks left 17-19 MB behind per run).
 */
public final class WorkDir implements AutoCloseable {
  private final Path path;
  private boolean measured;

  private WorkDir(Path path) {
    this.path = path;
  }

  public static WorkDir create(String prefix) throws IOException {
    return new WorkDir(Files.createTempDirectory(prefix));
  }

  public Path path() {
    return path;
  }

  /** Everything is measured and printed: the directory goes at {@link #close}. */
  public void measured() {
    measured = true;
  }

  @Override
  public void close() {
    if (!measured) {
      return;
    }
    try {
      FileUtils.deleteDirectory(path.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("removing the benchmark's work directory " + path, e);
    }
  }
}
