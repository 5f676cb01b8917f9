package com.example.connector.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.flink.util.FileUtils;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The temporary files of a run's embedded Flink cluster, in a directory of the run's own that is
 * removed when the run ends.
 *
 * <p>An embedded cluster keeps its RPC service (a 22 MB jar Flink extracts for each cluster), its
 * working directory and its shuffle and spill files in Flink's temporary directories, and removes
 * them as it shuts down, which it does on its own threads after the job has ended. A launcher that
 * exits as soon as the job's result is in ({@code System.exit}) left them in {@code /tmp}: 22 MB
 * for every run, and its web monitor's upload directory, which it never removes. So the run gives
 * the cluster directories of its own ({@code io.tmp.dirs} and {@code web.tmpdir}, in a Flink
 * configuration given as {@code --flinkConfDir}), and when the run ends it waits for Flink to
 * empty the first, tens of milliseconds, and removes them, with anything a cluster that did not
 * shut down in time left there.
 *
 * <p>A run given a Flink configuration ({@code --flinkConfDir}, or Flink's {@code FLINK_CONF_DIR})
 * keeps it, and with it Flink's temporary directories.
 */
final class EmbeddedFlinkFiles implements AutoCloseable {
  /** How long a run waits for its cluster to remove its files once the job has ended. */
  private static final Duration SHUTDOWN = Duration.ofSeconds(10);
  private static final long POLL_MILLIS = 10;

  /** The run's own directory: the configuration and the cluster's files. */
  private final Path dir;
  private final Path files;

  private EmbeddedFlinkFiles(Path dir, Path files) {
    this.dir = dir;
    this.files = files;
  }

  /**
   * For a run on an embedded Flink cluster with Flink's default configuration: the directory,
   * created and set as the run's {@code --flinkConfDir}; null for any other run.
   */
  static @Nullable EmbeddedFlinkFiles of(IngestOptions options, String runId) {
    if (!FlinkRunner.class.isAssignableFrom(options.getRunner())) {
      return null;
    }
    FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
    if (!RunnerChecks.isEmbeddedFlink(flink.getFlinkMaster()) || flink.getFlinkConfDir() != null
        || System.getenv("FLINK_CONF_DIR") != null) {
      return null;
    }
    try {
      Path dir = Files.createTempDirectory("example-flink-" + runId + "-");
      Path conf = Files.createDirectory(dir.resolve("conf"));
      Path files = Files.createDirectory(dir.resolve("files"));
      // The web monitor's upload directory, which Flink never removes, apart from the files it does.
      Path web = Files.createDirectory(dir.resolve("web"));
      Files.writeString(conf.resolve("config.yaml"), "io.tmp.dirs: " + yamlString(files) + "\nweb.tmpdir: " + yamlString(web) + "\n");
      flink.setFlinkConfDir(conf.toString());
      return new EmbeddedFlinkFiles(dir, files);
    } catch (IOException e) {
      throw new UncheckedIOException("creating the embedded Flink cluster's temporary directory in "
          + System.getProperty("java.io.tmpdir") + " (java.io.tmpdir)", e);
    }
  }

  /** Flink's config.yaml is YAML: a single-quoted scalar takes any path, its quotes doubled. */
  private static String yamlString(Path path) {
    return "'" + path.toString().replace("'", "''") + "'";
  }

  /** Waits (up to {@link #SHUTDOWN}) for the cluster to remove its files, then removes the directory. */
  @Override
  public void close() {
    long deadline = System.nanoTime() + SHUTDOWN.toNanos();
    try {
      while (!isEmpty(files) && System.nanoTime() < deadline) {
        Thread.sleep(POLL_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    FileUtils.deleteDirectoryQuietly(dir.toFile());
  }

  private static boolean isEmpty(Path dir) {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    } catch (IOException e) {
      return true; // gone, or unreadable: nothing to wait for
    }
  }
}
