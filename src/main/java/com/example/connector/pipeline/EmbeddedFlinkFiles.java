package com.example.connector.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.util.FileUtils;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The configuration and temporary files of a run's embedded Flink cluster, in a directory of the
 * run's own that is removed when the run ends.
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
 * <p>The configuration also sizes the cluster's managed memory (the off-heap buffers of Flink's
 * batch sorts and combines) as Beam's Flink runner would, {@code
 * taskmanager.memory.managed.fraction} of the free heap, but from the heap's usage after its last
 * collections: left to Beam, it measures the free heap after a {@code System.gc()}, a full
 * collection before every embedded job (about 150 ms in the merge benchmark's JVM, and the
 * longer the larger the live heap of an application that embeds the connector).
 *
 * <p>A run holds a lock on a file in its directory while it lives, which the operating system
 * releases however the run ends. A run that was killed ({@code kill -9}) leaves its directory
 * behind, unlocked: the next embedded Flink run with the same {@code java.io.tmpdir} removes it.
 *
 * <p>A run given a Flink configuration ({@code --flinkConfDir}, or Flink's {@code FLINK_CONF_DIR})
 * keeps it, and with it Flink's temporary directories.
 */
public final class EmbeddedFlinkFiles implements AutoCloseable {
  /** How long a run waits for its cluster to remove its files once the job has ended. */
  private static final Duration SHUTDOWN = Duration.ofSeconds(10);
  private static final long POLL_MILLIS = 10;

  private static final String PREFIX = "example-flink-";
  private static final String LOCK = "lock";
  /**
   * The directories of this JVM's runs, never opened by its clean-up: closing any channel to a
   * lock file would release the lock this JVM holds on it (POSIX locks are per process).
   */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  /** The run's own directory: the configuration and the cluster's files. */
  private final Path dir;
  private final Path files;
  /** Held while the run lives. */
  private final FileChannel lock;

  private EmbeddedFlinkFiles(Path dir, Path files, FileChannel lock) {
    this.dir = dir;
    this.files = files;
    this.lock = lock;
  }

  /**
   * For a run on an embedded Flink cluster with Flink's default configuration: the directory,
   * created and set as the run's {@code --flinkConfDir}; null for any other run. Public for the
   * benchmarks' minimal pipeline, which runs as a connector run does.
   */
  public static @Nullable EmbeddedFlinkFiles of(PipelineOptions options, String runId) {
    if (!RunnerChecks.isEmbeddedFlink(options)) {
      return null;
    }
    FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
    if (flink.getFlinkConfDir() != null || System.getenv("FLINK_CONF_DIR") != null) {
      return null;
    }
    Path dir = null;
    FileChannel lock = null;
    try {
      dir = Files.createTempDirectory(PREFIX + runId + "-");
      HELD.add(dir);
      // Locked before it gets its name: no other run finds the lock file unlocked while this one lives.
      Path unnamed = dir.resolve(LOCK + ".new");
      lock = FileChannel.open(unnamed, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      lock.lock();
      Files.move(unnamed, dir.resolve(LOCK), StandardCopyOption.ATOMIC_MOVE);
      removeAbandoned(dir.getParent());
      Path conf = Files.createDirectory(dir.resolve("conf"));
      Path files = Files.createDirectory(dir.resolve("files"));
      // The web monitor's upload directory: Flink never removes it, so it is apart from the files waited on.
      Path web = Files.createDirectory(dir.resolve("web"));
      OptionalLong managed = managedMemoryBytes();
      String managedSize =
          managed.isEmpty() ? "" : TaskManagerOptions.MANAGED_MEMORY_SIZE.key() + ": " + managed.getAsLong() + "b\n";
      Files.writeString(conf.resolve("config.yaml"),
          "io.tmp.dirs: " + yamlString(files) + "\nweb.tmpdir: " + yamlString(web) + "\n" + managedSize);
      flink.setFlinkConfDir(conf.toString());
      return new EmbeddedFlinkFiles(dir, files, lock);
    } catch (IOException e) {
      if (dir != null) {
        remove(dir, lock);
      }
      throw new UncheckedIOException("creating the embedded Flink cluster's temporary directory in "
          + System.getProperty("java.io.tmpdir") + " (java.io.tmpdir)", e);
    }
  }

  /**
   * Flink's default share of the free heap, the heap's live size taken as its pools' usage after
   * their last collection (a pool not yet collected: its usage now, garbage and all). At most
   * that share of the maximum heap. None (Beam measures it after a full GC) when that leaves less
   * than half the heap free: the pools may hold garbage, and a cluster sized from it got a few MB,
   * on which the merge's combine failed ("Record too large"); so it is at least half of Beam's.
   */
  static OptionalLong managedMemoryBytes() {
    long live = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        MemoryUsage afterCollection = pool.getCollectionUsage();
        boolean collected = afterCollection != null && afterCollection.getCommitted() > 0;
        live += collected ? afterCollection.getUsed() : pool.getUsage().getUsed();
      }
    }
    long max = Runtime.getRuntime().maxMemory();
    long free = Math.max(0, max - live);
    return free < max / 2 ? OptionalLong.empty()
        : OptionalLong.of((long) (TaskManagerOptions.MANAGED_MEMORY_FRACTION.defaultValue() * free));
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
    remove(dir, lock);
  }

  private static void remove(Path dir, @Nullable FileChannel lock) {
    try {
      if (lock != null) {
        lock.close(); // releases the lock
      }
    } catch (IOException e) {
      // the directory goes anyway
    }
    FileUtils.deleteDirectoryQuietly(dir.toFile());
    HELD.remove(dir);
  }

  /**
   * Removes the directories of killed runs in {@code tmp}: those whose lock no process holds. A
   * directory without its lock file is left alone (another run may be creating it).
   */
  static void removeAbandoned(Path tmp) {
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, PREFIX + "*")) {
      for (Path dir : dirs) {
        if (!HELD.contains(dir) && isAbandoned(dir.resolve(LOCK))) {
          FileUtils.deleteDirectoryQuietly(dir.toFile());
        }
      }
    } catch (IOException e) {
      // an unreadable temporary directory: nothing removed, as before this run
    }
  }

  private static boolean isAbandoned(Path lockFile) {
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      return channel.tryLock() != null; // released with the channel
    } catch (IOException | OverlappingFileLockException e) {
      return false; // no lock file (yet), not ours to open, or this JVM's
    }
  }

  private static boolean isEmpty(Path dir) {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    } catch (IOException e) {
      return true; // gone, or unreadable: nothing to wait for
    }
  }
}
