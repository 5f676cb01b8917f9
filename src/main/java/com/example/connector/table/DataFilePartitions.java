package com.example.connector.table;

import java.io.Serializable;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionData;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.types.Types;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The partition of each committed data file a merge may delete rows of: a position delete file
 * must be in the spec and partition of the data files it names, or readers do not apply it to
 * them (they look deletes up by a data file's spec and partition). Files of the first spec, the
 * unpartitioned one the connector creates its tables with, are not listed: most tables have no
 * other.
 */
public final class DataFilePartitions implements Serializable {
  /** Every file in the first spec. */
  private static final DataFilePartitions NONE = new DataFilePartitions(Map.of());
  private static final Partition FIRST_SPEC = Partition.of(PartitionSpec.unpartitioned(), null);

  private final Map<String, Partition> byFile;

  private DataFilePartitions(Map<String, Partition> byFile) {
    this.byFile = byFile;
  }

  /** The partitions of the data files of {@code tasks}. */
  public static DataFilePartitions of(Collection<FileScanTask> tasks) {
    Map<String, Partition> byFile = new HashMap<>();
    for (FileScanTask task : tasks) {
      PartitionSpec spec = task.spec();
      boolean firstSpec = spec.specId() == PartitionSpec.unpartitioned().specId() && spec.isUnpartitioned();
      if (!firstSpec) {
        byFile.put(task.file().path().toString(), Partition.of(spec, task.file().partition()));
      }
    }
    return byFile.isEmpty() ? NONE : new DataFilePartitions(Map.copyOf(byFile));
  }

  /** The spec and partition of a data file. */
  Partition of(String dataFile) {
    return byFile.getOrDefault(dataFile, FIRST_SPEC);
  }

  /**
   * A spec and a partition of it; equal when both are. Its values are held as Iceberg's {@link
   * PartitionData}, which is serializable and compares by value; none for an unpartitioned spec,
   * as the table's writers take it ({@code TableFiles.newFile}).
   */
  record Partition(int specId, @Nullable PartitionData values) implements Serializable {
    static Partition of(PartitionSpec spec, @Nullable StructLike partition) {
      if (spec.isUnpartitioned()) {
        return new Partition(spec.specId(), null);
      }
      Types.StructType type = spec.partitionType();
      PartitionData values = new PartitionData(type);
      for (int i = 0; i < type.fields().size(); i++) {
        values.set(i, partition.get(i, Object.class));
      }
      return new Partition(spec.specId(), values);
    }

    PartitionSpec spec(Table table) {
      return table.specs().get(specId);
    }
  }
}
