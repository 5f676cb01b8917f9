package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import com.example.connector.table.Destination;
import com.example.connector.table.Maintenance;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.iceberg.catalog.Catalog;

/**
 * Maintains the tables of a pipeline spec (and their change feeds): compaction, snapshot expiry
 * and orphan file removal ({@link Maintenance}), table by table, on this machine. Same spec,
 * catalog and destination options as a run, checked as a run checks them. Exit codes as a run's:
 * 0 done, 1 a table failed (the others are still maintained) or the catalog cannot be loaded, 2
 * bad configuration.
 */
public final class MaintainMain {
  /** The maintenance settings, beside a run's options. */
  public interface MaintainOptions extends IngestOptions {
    @Description("Compaction's target file size in bytes (0: the table's write.target-file-size-bytes, else 128 MB).")
    @Default.Long(0)
    long getTargetFileSizeBytes();

    void setTargetFileSizeBytes(long value);

    @Description("Snapshots older than this many hours are expired (the last --retainLastSnapshots are kept).")
    @Default.Long(168)
    long getExpireSnapshotsOlderThanHours();

    void setExpireSnapshotsOlderThanHours(long value);

    @Description("The most recent snapshots kept whatever their age.")
    @Default.Integer(5)
    int getRetainLastSnapshots();

    void setRetainLastSnapshots(int value);

    @Description("Unreferenced files younger than this many hours (at least 24) are kept: a run may still be"
        + " writing them.")
    @Default.Long(72)
    long getOrphanFilesOlderThanHours();

    void setOrphanFilesOlderThanHours(long value);
  }

  private MaintainMain() {}

  public static void main(String[] args) {
    // A fresh JVM: Beam's options registry needs only the SDK's and the runner config's runner's.
    OptionsRegistry.limitFor(args);
    System.exit(run(args, System.out, System.err, Clock.systemUTC()));
  }

  static int run(String[] args, PrintStream out, PrintStream err, Clock clock) {
    MaintainOptions options;
    List<Destination> destinations;
    Maintenance.Settings settings;
    Catalog catalog;
    try {
      PipelineOptionsFactory.register(MaintainOptions.class);
      options = OptionChecks.parse(RunnerConfig.merge(args), MaintainOptions.class);
      OptionChecks.check(options);
      checkSettings(options);
      PipelineSpec spec = PipelineSpec.load(Path.of(options.getSpec()));
      destinations = IngestPlanner.destinations(spec, options.getSpec(), options);
      settings = new Maintenance.Settings(options.getTargetFileSizeBytes(),
          Duration.ofHours(options.getExpireSnapshotsOlderThanHours()), options.getRetainLastSnapshots(),
          Duration.ofHours(options.getOrphanFilesOlderThanHours()), options.getDryRun());
    } catch (ConfigurationException | IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      return 2;
    }
    try {
      catalog = CatalogOptions.config(options).load();
    } catch (RuntimeException e) {
      err.println("error: " + e.getMessage());
      return 1;
    }
    int failed = 0;
    for (Destination d : withChangeFeeds(destinations)) {
      if (!catalog.tableExists(d.identifier())) {
        continue;
      }
      try {
        out.println(Maintenance.maintain(catalog.loadTable(d.identifier()), settings, clock).describe());
      } catch (RuntimeException e) {
        err.println("error: " + d + ": " + e.getMessage());
        failed++;
      }
    }
    return failed == 0 ? 0 : 1;
  }

  /** The maintenance settings, each named as its option (the settings' own checks cannot). */
  private static void checkSettings(MaintainOptions options) {
    OptionChecks.range("--targetFileSizeBytes", options.getTargetFileSizeBytes(), 0, Long.MAX_VALUE,
        "size compaction writes its files to, 0 for the table's own, e.g. --targetFileSizeBytes=134217728");
    OptionChecks.range("--expireSnapshotsOlderThanHours", options.getExpireSnapshotsOlderThanHours(), 0, Long.MAX_VALUE,
        "age in hours past which snapshots expire, e.g. --expireSnapshotsOlderThanHours=168");
    OptionChecks.range("--retainLastSnapshots", options.getRetainLastSnapshots(), 1, Integer.MAX_VALUE,
        "number of recent snapshots always kept, e.g. --retainLastSnapshots=5");
    // Under a day, a run still writing may lose the files it is about to commit (Spark's
    // remove_orphan_files refuses so short an age too).
    OptionChecks.range("--orphanFilesOlderThanHours", options.getOrphanFilesOlderThanHours(), 24, Long.MAX_VALUE,
        "age in hours past which unreferenced files are removed: younger ones may be a running run's files, not"
            + " yet committed, e.g. --orphanFilesOlderThanHours=72");
  }

  private static List<Destination> withChangeFeeds(List<Destination> destinations) {
    List<Destination> all = new ArrayList<>();
    for (Destination d : destinations) {
      all.add(d);
      all.add(d.changeFeed());
    }
    return all;
  }
}
