package com.example.connector.table;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.PCollection;
import org.apache.iceberg.Table;

/**
 * Writes the committed rows a run replaces or removes as Iceberg position delete files (Parquet),
 * one per bundle and partition of the data files they name: merge-on-read, so a change costs a
 * small file, not a rewrite of the data file holding the row. Position deletes rather than
 * equality deletes: every engine that reads v2 tables applies them (PyIceberg and DuckDB
 * included), and a reader joins them by file and position instead of comparing every row with
 * every deleted key.
 *
 * <p>A bundle's positions are held and sorted before writing, as the spec requires sorted delete
 * files: they are what the run changed, not the table.
 */
public final class WritePositionDeletes extends PTransform<PCollection<RowPosition>, PCollection<WrittenFile>> {
  private final TableTarget target;
  private final String runId;
  private final DataFilePartitions partitions;

  /** @param partitions the partitions of the committed data files the positions may name */
  public WritePositionDeletes(TableTarget target, String runId, DataFilePartitions partitions) {
    this.target = target;
    this.runId = runId;
    this.partitions = partitions;
  }

  @Override
  public PCollection<WrittenFile> expand(PCollection<RowPosition> positions) {
    return positions.apply("Write position deletes", ParDo.of(new WriteFn(target, runId, partitions)))
        .setCoder(IcebergValueCoder.of(WrittenFile.class));
  }

  private static final class WriteFn extends DoFn<RowPosition, WrittenFile> {
    private final TableTarget target;
    private final String runId;
    private final DataFilePartitions partitions;
    private transient Table table;
    private transient List<RowPosition> bundle;

    WriteFn(TableTarget target, String runId, DataFilePartitions partitions) {
      this.target = target;
      this.runId = runId;
      this.partitions = partitions;
    }

    @Setup
    public void setup() {
      table = target.load();
    }

    @StartBundle
    public void start() {
      bundle = new ArrayList<>();
    }

    @ProcessElement
    public void process(@Element RowPosition position) {
      bundle.add(position);
    }

    @FinishBundle
    public void finish(FinishBundleContext context) {
      if (bundle.isEmpty()) {
        return;
      }
      Collections.sort(bundle);
      for (WrittenFile file : TableFiles.writeDeletes(table, target.destination().key(), runId, bundle, partitions)) {
        context.output(file, GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE);
      }
      bundle = new ArrayList<>();
    }
  }
}
