package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.example.connector.table.CatalogConfig;
import com.example.connector.table.SnapshotSummary;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The continuous run's summary: a run's commits to a table and the rows they added. */
class ContinuousRunSummaryTest {
  private static final String RUN = "20260101T000000Z-abcdef";

  @TempDir Path dir;

  /** A data file the table knows by its metadata only: never opened here. */
  private DataFile file(String name, long rows) {
    return DataFiles.builder(PartitionSpec.unpartitioned()).withPath(dir.resolve(name).toString())
        .withFormat(FileFormat.PARQUET).withFileSizeInBytes(100).withRecordCount(rows).build();
  }

  /**
   * Maintenance compacting the table while the run goes on: its snapshot (a replace, which carries
   * the last commit's summary on, run id included) is not a commit of the run, and the rows it
   * rewrites were not added (they were counted as a commit and the whole table's rows).
   */
  @Test
  void aCompactionDuringTheRunIsNeitherACommitNorRowsAdded() {
    Table table = CatalogConfig.hadoop(dir.toString()).load().createTable(TableIdentifier.of("main", "example", "users"),
        new Schema(Types.NestedField.optional(1, "id", Types.StringType.get())), null, Map.of("format-version", "2"));
    DataFile before = file("a.parquet", 100);
    DataFile first = file("b.parquet", 3);
    table.newAppend().appendFile(before).set(SnapshotSummary.RUN_ID, "20251231T000000Z-000000-1").commit();
    table.newAppend().appendFile(first).set(SnapshotSummary.RUN_ID, RUN + "-1").commit();
    table.newRewrite().rewriteFiles(Set.of(before, first), Set.of(file("c.parquet", 103)))
        .set(SnapshotSummary.RUN_ID, RUN + "-1").commit(); // as maintenance's compaction carries it
    table.newAppend().appendFile(file("d.parquet", 2)).set(SnapshotSummary.RUN_ID, RUN + "-2").commit();

    assertEquals(new ContinuousRun.RunCommits(2, 5), ContinuousRun.runCommits(table, RUN));
  }
}
