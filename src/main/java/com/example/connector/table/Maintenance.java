package com.example.connector.table;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.ExpireSnapshots;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.PartitionStatisticsFile;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.StatisticsFile;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.util.PropertyUtil;
import org.apache.iceberg.util.SnapshotUtil;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a connector table healthy with iceberg-core, -data and -parquet only (Iceberg's own
 * maintenance actions need Spark or Flink). {@link #maintain} runs three operations, in order:
 *
 * <ol>
 *   <li><b>Compaction.</b> When the table has more than one data file under 75% of the target size,
 *       or any delete file, every live row of the current snapshot (deletes applied) is streamed,
 *       partition by partition of the table's spec, into new Parquet files rolled at the target
 *       size, and one {@code replace} snapshot swaps the old data and delete files for them (files
 *       of an earlier spec, from before the table was partitioned, stay as they are), carrying the
 *       {@code example.*} summary properties
 *       (the connector's cursors) of the newest snapshot that has them. Safe with ingestion: the
 *       commit lands only on the snapshot whose cursors it carries; if a run committed meanwhile,
 *       it lands on top of the run's with the run's cursors, unless the run deleted from a file
 *       being replaced (a merge's position delete, another engine's equality delete): Iceberg then
 *       refuses it, its files are deleted and nothing changed; the expiry and orphan removal still
 *       run, and then the failure is thrown. A run whose merge deleted rows of the replaced files
 *       moves those deletes onto the compacted files when it commits ({@link CompactedDeletes}).
 *   <li><b>Snapshot expiry.</b> Snapshots older than an age are removed, the last N always kept,
 *       with the files only they referenced. Safe: Iceberg re-applies the expiry on top of
 *       concurrent commits and never deletes a file a remaining snapshot references.
 *   <li><b>Orphan file removal.</b> Files under the table's location that no snapshot, manifest or
 *       metadata file references and that are older than a threshold (default 3 days) are deleted.
 *       Safe: the files of a run still writing, not yet committed, are younger than the threshold.
 * </ol>
 *
 * <p>Run at most one maintenance per table at a time.
 */
public final class Maintenance {
  private static final Logger LOG = LoggerFactory.getLogger(Maintenance.class);

  private static final long DEFAULT_TARGET_FILE_SIZE_BYTES = 128L * 1024 * 1024;

  /** Scheme and authority of a location: {@code file:}, {@code file://}, {@code gs://bucket}. */
  private static final Pattern SCHEME_AND_AUTHORITY =
      Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:(//[^/]*)?");

  private static final Pattern REPEATED_SLASHES = Pattern.compile("/{2,}");

  /** How many commits landing while compaction commits it goes on top of, one after the other. */
  private static final int MAX_REBASES = 10;

  private Maintenance() {}

  /**
   * What {@link #maintain} does.
   *
   * @param targetFileSizeBytes size compacted files are rolled at; 0 takes the table's {@code
   *     write.target-file-size-bytes}, else 128 MB
   * @param expireOlderThan snapshots older than this are expired
   * @param retainLast the most recent snapshots kept whatever their age
   * @param orphanOlderThan unreferenced files younger than this are kept
   * @param dryRun change nothing: no compaction, and report the snapshots that would be expired
   *     and the orphan files that would be removed
   */
  public record Settings(
      long targetFileSizeBytes,
      Duration expireOlderThan,
      int retainLast,
      Duration orphanOlderThan,
      boolean dryRun) {
    public Settings {
      if (targetFileSizeBytes < 0) {
        throw new IllegalArgumentException(
            "targetFileSizeBytes must be 0 or more: " + targetFileSizeBytes);
      }
      if (expireOlderThan.isNegative() || orphanOlderThan.isNegative()) {
        throw new IllegalArgumentException("durations must not be negative");
      }
      if (retainLast < 1) {
        throw new IllegalArgumentException("retainLast must be at least 1: " + retainLast);
      }
    }

    public static Settings defaults() {
      return new Settings(0, Duration.ofDays(7), 5, Duration.ofDays(3), false);
    }
  }

  /**
   * What {@link #maintain} did to one table (in a dry run: what it would have done; the counts
   * after are then the counts before).
   *
   * @param compacts in a dry run, whether a real run would compact first: its expiry and orphan
   *     counts are then those of the table as it stands, before the snapshot compaction adds
   */
  public record Report(
      String table,
      int dataFilesBefore,
      int deleteFilesBefore,
      int dataFilesAfter,
      int deleteFilesAfter,
      int snapshotsExpired,
      List<String> orphansRemoved,
      boolean dryRun,
      boolean compacts) {
    public Report {
      orphansRemoved = List.copyOf(orphansRemoved);
    }

    /** One line for the run's summary. */
    public String describe() {
      if (dryRun) {
        return String.format(
            "%s (dry run, nothing changed): %d data files, %d delete files%s would expire %d snapshots"
                + " and remove %d orphan files",
            table, dataFilesBefore, deleteFilesBefore,
            compacts ? ", which it would compact; before that compaction," : ";",
            snapshotsExpired, orphansRemoved.size());
      }
      return String.format(
          "%s: data files %d -> %d, delete files %d -> %d, %d snapshots expired, %d orphan files removed",
          table,
          dataFilesBefore,
          dataFilesAfter,
          deleteFilesBefore,
          deleteFilesAfter,
          snapshotsExpired,
          orphansRemoved.size());
    }
  }

  /**
   * Compacts, expires snapshots and removes orphan files (see the class comment).
   *
   * @throws IllegalStateException if the table changed while it was being compacted; its rows were
   *     not rewritten then (snapshots were still expired and orphans removed), and maintenance can
   *     simply run again
   */
  public static Report maintain(Table table, Settings settings, Clock clock) {
    return maintain(table, settings, clock, () -> {});
  }

  /**
   * As {@link #maintain(Table, Settings, Clock)}, running {@code beforeRewriteCommit} once the
   * compacted files are written, right before their commit.
   */
  static Report maintain(Table table, Settings settings, Clock clock, Runnable beforeRewriteCommit) {
    table.refresh();
    Snapshot start = table.currentSnapshot();
    LiveFiles before = LiveFiles.of(table, start);
    long target =
        settings.targetFileSizeBytes() > 0
            ? settings.targetFileSizeBytes()
            : PropertyUtil.propertyAsLong(
                table.properties(),
                TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
                DEFAULT_TARGET_FILE_SIZE_BYTES);
    Abandoned abandoned = null;
    boolean compacts = before.needCompaction(table.spec(), target);
    if (!settings.dryRun() && compacts) {
      try {
        compact(table, start, before, target, beforeRewriteCommit);
      } catch (Abandoned e) {
        // Expire and remove orphans all the same: on a table a continuous run commits to every few
        // seconds, a long compaction loses every time, and they would never run.
        abandoned = e;
      }
    }
    int expired;
    List<String> orphans;
    try {
      expired = expireSnapshots(table, settings, clock);
      orphans = removeOrphans(table, settings, clock);
    } catch (RuntimeException e) {
      if (abandoned != null) {
        e.addSuppressed(abandoned);
      }
      throw e;
    }
    if (abandoned != null) {
      throw abandoned;
    }
    table.refresh();
    LiveFiles after = LiveFiles.of(table, table.currentSnapshot());
    return new Report(
        table.name(),
        before.data().size(),
        before.deletes().size(),
        after.data().size(),
        after.deletes().size(),
        expired,
        orphans,
        settings.dryRun(),
        settings.dryRun() && compacts);
  }

  /** The data and delete files a snapshot reads. */
  private record LiveFiles(Set<DataFile> data, Set<DeleteFile> deletes) {
    static LiveFiles of(Table table, Snapshot snapshot) {
      Set<DataFile> data = new HashSet<>();
      Set<DeleteFile> deletes = new HashSet<>();
      if (snapshot != null) {
        for (ManifestFile manifest : snapshot.dataManifests(table.io())) {
          readInto(ManifestFiles.read(manifest, table.io(), table.specs()), data);
        }
        for (ManifestFile manifest : snapshot.deleteManifests(table.io())) {
          readInto(ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs()), deletes);
        }
      }
      return new LiveFiles(data, deletes);
    }

    private static <F extends ContentFile<F>> void readInto(ManifestReader<F> reader, Set<F> files) {
      try (reader) {
        reader.forEach(files::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Whether the current spec's files are worth compacting: more than one small, or any deleted from. */
    boolean needCompaction(PartitionSpec spec, long targetFileSizeBytes) {
      long small =
          data(spec).stream().filter(f -> f.fileSizeInBytes() < targetFileSizeBytes / 4 * 3).count();
      return small > 1 || !deletesOnlyOf(spec).isEmpty();
    }

    /** Whether data files of another spec than {@code spec} remain (a table partitioned since, say). */
    boolean hasOtherSpecs(PartitionSpec spec) {
      return data.stream().anyMatch(f -> f.specId() != spec.specId());
    }

    Set<DataFile> data(PartitionSpec spec) {
      return data.stream().filter(f -> f.specId() == spec.specId()).collect(Collectors.toSet());
    }

    /**
     * The delete files that apply to data files of {@code spec} only: its own, except, while files
     * of other specs remain, an unpartitioned spec's equality deletes, which apply to every spec's.
     */
    Set<DeleteFile> deletesOnlyOf(PartitionSpec spec) {
      boolean global = spec.isUnpartitioned() && hasOtherSpecs(spec);
      return deletes.stream()
          .filter(f -> f.specId() == spec.specId())
          .filter(f -> !(global && f.content() == FileContent.EQUALITY_DELETES))
          .collect(Collectors.toSet());
    }
  }

  /**
   * Rewrites the live rows of the data files of the table's current spec, partition by partition,
   * and swaps them and the deletes that only they are subject to for the new files. Files of
   * another spec (written before the table was partitioned, or partitioned otherwise) keep their
   * layout and their deletes: moving their rows into the current spec's partitions would hold a
   * file open per partition at once, which an engine that shuffles (Spark's {@code
   * rewrite_data_files}) does without.
   */
  private static void compact(
      Table table, Snapshot start, LiveFiles files, long targetFileSizeBytes, Runnable beforeCommit) {
    PartitionSpec spec = table.spec();
    Map<DataFilePartitions.Partition, List<FileScanTask>> partitions = new LinkedHashMap<>();
    for (FileScanTask task : Warehouse.files(table, start.snapshotId())) {
      if (task.spec().specId() == spec.specId()) {
        partitions.computeIfAbsent(DataFilePartitions.Partition.of(spec, task.file().partition()), p -> new ArrayList<>())
            .add(task);
      }
    }
    List<String> written = new ArrayList<>();
    boolean keepWritten = false;
    try {
      Set<DataFile> compacted = new HashSet<>();
      for (Map.Entry<DataFilePartitions.Partition, List<FileScanTask>> partition : partitions.entrySet()) {
        RollingWriter out = new RollingWriter(table, spec, partition.getKey().values(), targetFileSizeBytes, written);
        CommittedRead committed = new CommittedRead(table); // a partition's files share its delete files
        try (out) {
          for (FileScanTask task : partition.getValue()) {
            try (CloseableIterable<Record> rows = LiveRows.read(committed, task, table.schema(), row -> true)) {
              for (Record row : rows) {
                out.write(row); // the table's columns: what applying deletes read besides is not written
              }
            }
          }
        }
        compacted.addAll(out.files()); // closed: its last file too
      }
      beforeCommit.run();
      String uuid = table.uuid().toString();
      Snapshot onto = start;
      int rebases = 0;
      while (true) {
        try {
          // Only onto that snapshot of this table, carrying its cursors on: the next run reads them there.
          RewriteFiles rewrite = rewrite(StartingSnapshot.of(table, uuid, onto.snapshotId(), false), start, spec, files, compacted);
          connectorSummary(table, onto).forEach(rewrite::set);
          rewrite.commit();
          break;
        } catch (ValidationException e) {
          // A commit landed meanwhile (a continuous run's, every few seconds: a compaction longer than
          // that lost every time): onto it, as Iceberg's own rewrite, which refuses it if the commit
          // deleted from a replaced file.
          table.refresh();
          Snapshot now = table.currentSnapshot();
          if (now == null || now.snapshotId() == onto.snapshotId() || !uuid.equals(table.uuid().toString())
              || ++rebases > MAX_REBASES) {
            throw e;
          }
          onto = now;
        }
      }
      keepWritten = true;
    } catch (CommitStateUnknownException e) {
      keepWritten = true; // the commit may have landed, and the written files be the table's
      throw e;
    } catch (ValidationException | CommitFailedException e) {
      throw new Abandoned(
          "Table " + table.name() + " changed while it was being compacted, so compaction was"
              + " abandoned and its rows were left as they were (snapshots were still expired and orphan"
              + " files removed); run maintenance again (" + e.getMessage() + ")",
          e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (!keepWritten) {
        written.forEach(location -> deleteQuietly(table.io(), location));
      }
    }
  }

  /** The swap of {@code files}' files of {@code spec} for {@code compacted}, checked against commits since {@code start}. */
  private static RewriteFiles rewrite(Table table, Snapshot start, PartitionSpec spec, LiveFiles files,
      Set<DataFile> compacted) {
    return table.newRewrite()
        // Deletes committed since against a replaced file fail it: they would be lost with the file.
        // Without it, the delete files being replaced would count as deletes added since, too.
        .validateFromSnapshot(start.snapshotId())
        .rewriteFiles(files.data(spec), files.deletesOnlyOf(spec), compacted, Set.of());
  }

  /** A compaction that lost the race to another commit: nothing of it was committed. */
  private static final class Abandoned extends IllegalStateException {
    Abandoned(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * The {@code example.*} summary properties of the newest of {@code start} and its ancestors that
   * the connector committed ({@link SnapshotSummary#lastCommitted}).
   */
  private static Map<String, String> connectorSummary(Table table, Snapshot start) {
    Snapshot committed = SnapshotSummary.lastCommitted(table, start);
    return committed == null ? Map.of()
        : committed.summary().entrySet().stream()
            .filter(e -> e.getKey().startsWith(SnapshotSummary.PREFIX))
            .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
  }

  private static void deleteQuietly(FileIO io, String location) {
    try {
      io.deleteFile(location);
    } catch (RuntimeException e) {
      // Left as an orphan file: orphan removal deletes it once it is old enough.
      LOG.warn("Could not delete {} written by an abandoned compaction", location, e);
    }
  }

  /** Writes rows of one partition into new Parquet data files rolled at a target size. */
  private static final class RollingWriter implements Closeable {
    private final Table table;
    private final PartitionSpec spec;
    private final @Nullable StructLike partition;
    private final long targetFileSizeBytes;
    private final long rowGroupSizeBytes;
    private final List<String> created;
    private final Set<DataFile> files = new HashSet<>();
    private DataWriter<Record> current;

    /**
     * Files of {@code partition} of {@code spec} (null for an unpartitioned spec); {@code created}
     * receives each file's location as soon as the file is opened.
     */
    RollingWriter(Table table, PartitionSpec spec, @Nullable StructLike partition, long targetFileSizeBytes,
        List<String> created) {
      this.table = table;
      this.spec = spec;
      this.partition = partition;
      this.targetFileSizeBytes = targetFileSizeBytes;
      this.created = created;
      // A writer's length counts its unflushed row group uncompressed: with one row group per file,
      // files would close at a fraction of the target and count as small at the next maintenance.
      // A quarter of the target, Iceberg's default ratio, keeps most of a file's length compressed.
      this.rowGroupSizeBytes =
          Math.min(
              Math.max(targetFileSizeBytes / 4, 1),
              PropertyUtil.propertyAsLong(
                  table.properties(),
                  TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES,
                  TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES_DEFAULT));
    }

    void write(Record row) throws IOException {
      if (current == null) {
        OutputFile file = TableFiles.newFile(table, spec, partition, "maint-" + UUID.randomUUID() + ".parquet");
        created.add(file.location());
        current =
            Parquet.writeData(file)
                .forTable(table)
                .withSpec(spec)
                .withPartition(partition)
                .set(TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES, Long.toString(rowGroupSizeBytes))
                .createWriterFunc(GenericParquetWriter::buildWriter)
                .overwrite()
                .build();
      }
      current.write(row);
      if (current.length() >= targetFileSizeBytes) {
        closeCurrent();
      }
    }

    private void closeCurrent() throws IOException {
      DataWriter<Record> writer = current;
      current = null;
      writer.close();
      files.add(writer.toDataFile());
    }

    @Override
    public void close() throws IOException {
      if (current != null) {
        closeCurrent();
      }
    }

    Set<DataFile> files() {
      return files;
    }
  }

  private static int expireSnapshots(Table table, Settings settings, Clock clock) {
    ExpireSnapshots expire =
        table
            .expireSnapshots()
            .expireOlderThan(clock.millis() - settings.expireOlderThan().toMillis())
            .retainLast(Math.max(settings.retainLast(), toLastCommitted(table)));
    if (settings.dryRun()) {
      return expire.apply().size();
    }
    Set<Long> before = snapshotIds(table);
    expire.commit();
    table.refresh();
    before.removeAll(snapshotIds(table));
    return before.size();
  }

  /**
   * How many of the current snapshot's ancestors (itself included) reach the newest one the
   * connector committed: it holds the cursors the next run reads on from, so it is never expired,
   * however many snapshots other writers committed after it.
   */
  private static int toLastCommitted(Table table) {
    int depth = 0;
    for (Snapshot s : SnapshotUtil.currentAncestors(table)) {
      depth++;
      if (SnapshotSummary.byConnector(s)) {
        return depth;
      }
    }
    return 0;
  }

  private static Set<Long> snapshotIds(Table table) {
    return StreamSupport.stream(table.snapshots().spliterator(), false)
        .map(Snapshot::snapshotId)
        .collect(Collectors.toSet());
  }

  private static List<String> removeOrphans(Table table, Settings settings, Clock clock) {
    if (!(table.io() instanceof SupportsPrefixOperations io)) {
      throw new UnsupportedOperationException(
          "Cannot list the files of " + table.name() + ": its FileIO "
              + table.io().getClass().getName() + " cannot list a prefix");
    }
    table.refresh();
    String metadataFile =
        normalize(((HasTableOperations) table).operations().current().metadataFileLocation());
    // The trailing slash keeps an object store's prefix listing out of sibling tables (events_old/).
    String root = table.location().endsWith("/") ? table.location() : table.location() + "/";
    long cutoffMillis = clock.millis() - settings.orphanOlderThan().toMillis();
    List<String> oldFiles = new ArrayList<>();
    boolean listedMetadataFile = false;
    for (FileInfo file : io.listPrefix(root)) {
      listedMetadataFile |= normalize(file.location()).equals(metadataFile);
      if (file.createdAtMillis() < cutoffMillis) {
        oldFiles.add(file.location());
      }
    }
    // If the listing names files unlike the metadata does, every file would look unreferenced.
    if (metadataFile.startsWith(normalize(root)) && !listedMetadataFile) {
      throw new IllegalStateException(
          "The files listed under " + root + " do not include " + table.name()
              + "'s current metadata file " + metadataFile + "; not removing orphan files");
    }
    // Read after listing, so that a file committed while listing counts as referenced.
    table.refresh();
    Set<String> referenced = referencedFiles(table);
    List<String> orphans =
        oldFiles.stream().filter(f -> !referenced.contains(normalize(f))).sorted().toList();
    if (!settings.dryRun()) {
      orphans.forEach(io::deleteFile);
    }
    return orphans;
  }

  /** Every file the table's metadata references, as {@link #normalize normalized} locations. */
  private static Set<String> referencedFiles(Table table) {
    TableOperations ops = ((HasTableOperations) table).operations();
    TableMetadata metadata = ops.current();
    FileIO io = table.io();
    Set<String> files = new HashSet<>();
    files.add(metadata.metadataFileLocation());
    metadata.previousFiles().forEach(entry -> files.add(entry.file()));
    files.add(ops.metadataFileLocation("version-hint.text"));
    metadata.statisticsFiles().stream().map(StatisticsFile::path).forEach(files::add);
    metadata.partitionStatisticsFiles().stream().map(PartitionStatisticsFile::path).forEach(files::add);
    for (Snapshot snapshot : metadata.snapshots()) {
      if (snapshot.manifestListLocation() != null) {
        files.add(snapshot.manifestListLocation());
      }
      for (ManifestFile manifest : snapshot.allManifests(io)) {
        // Snapshots share most manifests: read each one once.
        if (files.add(manifest.path())) {
          addContentFiles(manifest, table, files);
        }
      }
    }
    return files.stream().map(Maintenance::normalize).collect(Collectors.toSet());
  }

  private static void addContentFiles(ManifestFile manifest, Table table, Set<String> files) {
    List<String> pathOnly = List.of("file_path");
    try (ManifestReader<? extends ContentFile<?>> reader =
        manifest.content() == ManifestContent.DATA
            ? ManifestFiles.read(manifest, table.io(), table.specs()).select(pathOnly)
            : ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs()).select(pathOnly)) {
      reader.forEach(file -> files.add(file.path().toString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A location without scheme, authority or repeated slashes, so that {@code file:/x}, {@code
   * file:///x} and {@code /x} compare equal. Dropping the authority too can only make an
   * unreferenced file look referenced, and so be kept.
   */
  static String normalize(String location) {
    String path = SCHEME_AND_AUTHORITY.matcher(Objects.requireNonNull(location)).replaceFirst("");
    return REPEATED_SLASHES.matcher(path).replaceAll("/");
  }
}
