package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.example.bench.MinimalPipeline;
import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An embedded Flink cluster's temporary files go to directories of the run's own, given to Flink
 * as its configuration and removed at the end (ExecRunIT: nothing left after README's command),
 * or by a later run if the run was killed; other runs, and runs given a Flink configuration, keep
 * theirs.
 */
class EmbeddedFlinkFilesTest {
  @Test
  void anEmbeddedClustersFilesGoToDirectoriesOfTheRunsOwnRemovedAtItsEnd() {
    IngestOptions options = options("--runner=FlinkRunner", "--flinkMaster=[local]");
    Path dir;
    try (EmbeddedFlinkFiles files = EmbeddedFlinkFiles.of(options, "20261206T000000Z-abcdef")) {
      assertNotNull(files);
      Path conf = Path.of(options.as(FlinkPipelineOptions.class).getFlinkConfDir());
      dir = conf.getParent();
      assertTrue(dir.getFileName().toString().startsWith("example-flink-20261206T000000Z-abcdef-"), dir.toString());
      Configuration flink = GlobalConfiguration.loadConfiguration(conf.toString());
      Path tmp = Path.of(flink.get(CoreOptions.TMP_DIRS));
      Path web = Path.of(flink.get(WebOptions.TMP_DIR));
      assertEquals(dir, tmp.getParent());
      assertEquals(dir, web.getParent());
      assertTrue(Files.isDirectory(tmp) && Files.isDirectory(web));
      // None when the heap seems more than half full (Beam measures it then): a test JVM's earlier classes' garbage.
      flink.getOptional(TaskManagerOptions.MANAGED_MEMORY_SIZE).map(s -> s.getBytes()).ifPresent(managed ->
          assertTrue(managed > 0 && managed <= 0.4 * Runtime.getRuntime().maxMemory(), "managed memory " + managed));
    }
    assertFalse(Files.exists(dir), dir + " removed");
  }

  @Test
  void otherRunsAndRunsGivenAFlinkConfigurationKeepTheirs() {
    assertNull(EmbeddedFlinkFiles.of(options("--runner=DirectRunner"), "r"));
    assertNull(EmbeddedFlinkFiles.of(options("--runner=FlinkRunner", "--flinkMaster=localhost:8081"), "r"));
    IngestOptions own = options("--runner=FlinkRunner", "--flinkMaster=[local]", "--flinkConfDir=/etc/flink");
    assertNull(EmbeddedFlinkFiles.of(own, "r"));
    assertEquals("/etc/flink", own.as(FlinkPipelineOptions.class).getFlinkConfDir());
  }

  /**
   * A killed run's directory, its lock file held by no process, is removed by the next run's
   * clean-up; one whose lock is held, or that has no lock file yet (a run creating it), is not.
   * (CrashFileSystemTest: the directory a run killed with kill -9 left.)
   */
  @Test
  void theDirectoriesOfKilledRunsAreRemovedAndNoOthers(@TempDir Path tmp) throws Exception {
    Path killed = Files.createDirectories(tmp.resolve("example-flink-killed-1/files"));
    Files.writeString(killed.getParent().resolve("lock"), "");
    Path creating = Files.createDirectory(tmp.resolve("example-flink-creating-2"));
    Path live = Files.createDirectory(tmp.resolve("example-flink-live-3"));
    Path other = Files.createDirectory(tmp.resolve("another-tool"));
    Files.writeString(other.resolve("lock"), "");
    try (FileChannel held = FileChannel.open(live.resolve("lock"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      held.lock();
      EmbeddedFlinkFiles.removeAbandoned(tmp);
    }
    assertFalse(Files.exists(killed.getParent()));
    assertTrue(Files.exists(creating) && Files.exists(live) && Files.exists(other));
  }

  @Test
  void aLiveRunsDirectoryIsNotRemoved() {
    IngestOptions options = options("--runner=FlinkRunner", "--flinkMaster=[local]");
    try (EmbeddedFlinkFiles files = EmbeddedFlinkFiles.of(options, "live")) {
      Path dir = Path.of(options.as(FlinkPipelineOptions.class).getFlinkConfDir()).getParent();
      EmbeddedFlinkFiles.removeAbandoned(dir.getParent());
      assertTrue(Files.exists(dir.resolve("lock")), dir.toString());
    }
  }

  /**
   * Beam sizes an embedded cluster's managed memory after a {@code System.gc()} unless its
   * configuration sizes it: a job on a cluster configured here forces no full collection. The
   * collector's notifications come on a thread of their own, so a collection of another cause (a
   * diagnostic command's) marks the end: once its notification is in, so are those before it.
   * One such collection before the job also starts it with a heap whose pools were just collected,
   * which a run leaves to Beam's measurement when they seem more than half full.
   */
  @Test
  void anEmbeddedJobForcesNoFullCollection() throws Exception {
    assumeFalse(Boolean.getBoolean("gcPressure"), "stress mode calls System.gc() itself");
    List<String> causes = new CopyOnWriteArrayList<>();
    Semaphore marked = new Semaphore(0);
    NotificationListener listener = (notification, handback) -> {
      if (notification.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
        String cause = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData()).getGcCause();
        causes.add(cause);
        if (cause.equals("Diagnostic Command")) {
          marked.release();
        }
      }
    };
    List<GarbageCollectorMXBean> collectors = ManagementFactory.getGarbageCollectorMXBeans();
    collectors.forEach(c -> ((NotificationEmitter) c).addNotificationListener(listener, null, null));
    try {
      collect();
      marked.acquire();
      causes.clear();
      MinimalPipeline.run(new String[] {"--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=1"}, 0);
      collect();
      marked.acquire();
    } finally {
      for (GarbageCollectorMXBean c : collectors) {
        ((NotificationEmitter) c).removeNotificationListener(listener);
      }
    }
    assertFalse(causes.contains("System.gc()"), "collections during the job: " + causes);
  }

  /**
   * A heap that held large arrays its collector has not reclaimed yet: read from the pools, that
   * garbage counted as live, and the cluster got a few MB of managed memory where Beam's
   * measurement after a full GC gives hundreds (9 MB against 406 MB of a 1 GB G1 heap), on which
   * the merge's combine of its changed keys' 1 MB filter fails ("Record too large"). The cluster
   * now gets at least half of what Beam would give it, or Beam measures it itself.
   */
  @Test
  void garbageTheCollectorHasNotReclaimedIsNotTakenForTheLiveHeap() {
    IngestOptions options = options("--runner=FlinkRunner", "--flinkMaster=[local]");
    EmbeddedFlinkFiles.of(options("--runner=FlinkRunner", "--flinkMaster=[local]"), "classes-loaded").close();
    Runtime heap = Runtime.getRuntime();
    List<byte[]> held = new ArrayList<>();
    while (heap.totalMemory() - heap.freeMemory() < 0.7 * heap.maxMemory()) {
      held.add(new byte[8 << 20]);
    }
    long collections = collections();
    held.clear();
    EmbeddedFlinkFiles files = EmbeddedFlinkFiles.of(options, "garbage");
    assumeTrue(collections == collections(), "a collection reclaimed the arrays before the cluster was sized");
    Long managed;
    try (files) {
      Configuration flink = GlobalConfiguration.loadConfiguration(options.as(FlinkPipelineOptions.class).getFlinkConfDir());
      managed = flink.getOptional(TaskManagerOptions.MANAGED_MEMORY_SIZE).map(s -> s.getBytes()).orElse(null);
    }
    System.gc();
    long beams = (long) (0.4 * (heap.maxMemory() - heap.totalMemory() + heap.freeMemory()));
    assertTrue(managed == null || managed >= beams / 2, "managed memory " + managed + " where Beam's is " + beams);
  }

  /** A full collection of the diagnostic command's cause. */
  private static void collect() throws Exception {
    ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
        "gcRun", new Object[] {null}, new String[] {String[].class.getName()});
  }

  private static long collections() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
  }

  private static IngestOptions options(String... args) {
    return PipelineOptionsFactory.fromArgs(args).as(IngestOptions.class);
  }
}
