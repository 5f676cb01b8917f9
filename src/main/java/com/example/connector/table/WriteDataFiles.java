package com.example.connector.table;

import java.io.IOException;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.PCollection;
import org.apache.iceberg.Table;

/**
 * Writes rows as Parquet data files of a table with Iceberg's Parquet writer (field ids, column
 * metrics: what readers prune files by), one file per bundle and partition ({@link
 * OpenDataFiles}), rolled at the table's target file size, and names each file it wrote. The
 * files are in the table's data directory but not in the table until {@link CommitTables} commits
 * them; files of a run that never commits are orphans, which {@code Maintenance} removes.
 *
 * <p>Rows are Avro records, written as they are ({@link ParquetAvroWriter}): no conversion per
 * row. They are written with the run's schema under the table's field ids, so a column the table
 * has and this source no longer sends is absent from the file and read as null.
 */
public final class WriteDataFiles extends PTransform<PCollection<GenericRecord>, PCollection<WrittenFile>> {
  private final TableTarget target;
  private final String runId;
  private final String schemaJson;
  private final List<String> identifierColumns;

  public WriteDataFiles(TableTarget target, String runId, Schema rowSchema, List<String> identifierColumns) {
    this.target = target;
    this.runId = runId;
    this.schemaJson = rowSchema.toString();
    this.identifierColumns = List.copyOf(identifierColumns);
  }

  @Override
  public PCollection<WrittenFile> expand(PCollection<GenericRecord> rows) {
    return rows.apply("Write data files", ParDo.of(new WriteFn(this)))
        .setCoder(IcebergValueCoder.of(WrittenFile.class));
  }

  private static final class WriteFn extends DoFn<GenericRecord, WrittenFile> {
    private final TableTarget target;
    private final String runId;
    private final String schemaJson;
    private final List<String> identifierColumns;
    private transient Table table;
    private transient org.apache.iceberg.Schema fileSchema;
    private transient OpenDataFiles open;

    WriteFn(WriteDataFiles spec) {
      this.target = spec.target;
      this.runId = spec.runId;
      this.schemaJson = spec.schemaJson;
      this.identifierColumns = spec.identifierColumns;
    }

    @Setup
    public void setup() {
      table = target.load();
      fileSchema = TableFiles.fileSchema(table, new Schema.Parser().parse(schemaJson), identifierColumns);
    }

    @StartBundle
    public void start() {
      abandon(); // a bundle that failed on this instance: its files are orphans
      open = new OpenDataFiles(table, fileSchema, target.destination().key(), runId);
    }

    @ProcessElement
    public void process(@Element GenericRecord row, OutputReceiver<WrittenFile> out) throws IOException {
      WrittenFile full = open.write(row);
      if (full != null) {
        out.output(full);
      }
    }

    @FinishBundle
    public void finish(FinishBundleContext context) throws IOException {
      for (WrittenFile file : open.closeAll()) {
        context.output(file, GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE);
      }
    }

    @Teardown
    public void teardown() {
      abandon();
    }

    private void abandon() {
      if (open != null) {
        open.abandon();
      }
    }
  }
}
