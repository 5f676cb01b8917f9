package com.example.connector.sink;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.io.FileSystem;
import org.apache.beam.sdk.io.FileSystemRegistrar;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * A test-only Beam {@link FileSystem} for the {@code mem://} scheme, standing in for {@code gs://}:
 * {@code mem://a/b} is stored at {@code <root>/a/b} of a directory only this class knows. Code that
 * bypassed Beam's FileSystems (java.io.File, java.nio on the URI) could not find these files.
 */
public final class MemFileSystem extends DiskBackedFileSystem {
  static volatile Path root;
  static final AtomicInteger CALLS = new AtomicInteger();

  /** Registered through META-INF/services (test resources). */
  public static final class Registrar implements FileSystemRegistrar {
    @Override
    public Iterable<FileSystem<?>> fromOptions(PipelineOptions options) {
      return List.of(new MemFileSystem());
    }
  }

  MemFileSystem() {
    super("mem");
  }

  @Override
  protected Path local(String path) {
    return root.resolve(path.replaceAll("^/+", ""));
  }

  @Override
  protected String path(Path file) {
    return root.relativize(file).toString().replace('\\', '/');
  }

  @Override
  protected void called(String op) {
    CALLS.incrementAndGet();
  }
}
