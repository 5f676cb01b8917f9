package com.example.connector.table;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.PCollection;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.DataWriter;

/**
 * Writes rows as Parquet data files of a table with Iceberg's Parquet writer (field ids, column
 * metrics: what readers prune files by), one file per bundle, rolled at the table's target file
 * size, and names each file it wrote. The files are in the table's data directory but not in the
 * table until {@link CommitTables} commits them; files of a run that never commits are orphans,
 * which {@code Maintenance} removes.
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
        .setCoder(SerializableCoder.of(WrittenFile.class));
  }

  private static final class WriteFn extends DoFn<GenericRecord, WrittenFile> {
    private final TableTarget target;
    private final String runId;
    private final String schemaJson;
    private final List<String> identifierColumns;
    private transient Table table;
    private transient org.apache.iceberg.Schema fileSchema;
    private transient long targetBytes;
    private transient DataWriter<GenericRecord> writer;
    private transient long rows;

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
      targetBytes = TableFiles.targetBytes(table);
    }

    @StartBundle
    public void start() {
      abandon(); // a bundle that failed on this instance: its file is an orphan
    }

    @ProcessElement
    public void process(@Element GenericRecord row, OutputReceiver<WrittenFile> out)
        throws IOException {
      if (writer == null) {
        writer = TableFiles.openData(table, fileSchema, runId);
      }
      writer.write(row);
      // The length is what the writer has flushed so far: check it now and then, not per row.
      if (++rows % 1000 == 0 && writer.length() >= targetBytes) {
        out.output(close());
      }
    }

    @FinishBundle
    public void finish(FinishBundleContext context) throws IOException {
      if (writer != null) {
        context.output(close(), GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE);
      }
    }

    @Teardown
    public void teardown() {
      abandon();
    }

    private WrittenFile close() throws IOException {
      DataWriter<GenericRecord> done = writer;
      writer = null;
      return TableFiles.close(done, target.destination().key());
    }

    private void abandon() {
      if (writer != null) {
        try {
          writer.close();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        } finally {
          writer = null;
        }
      }
    }
  }
}
