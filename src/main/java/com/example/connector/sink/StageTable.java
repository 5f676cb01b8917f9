package com.example.connector.sink;

import com.example.connector.sink.StagedFile.Part;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.WritableByteChannel;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.PCollection;
import org.apache.hadoop.conf.Configuration;

/**
 * Writes rows as Parquet files (snappy) into a run's staging directory, one file per bundle, with
 * Beam's {@link ParquetIO} sink on Beam {@link FileSystems}, and names each file it wrote.
 * Nothing a reader sees changes until {@link Committer} commits the run.
 *
 * <p>Why not {@link FileIO#write()}: the DirectRunner replaces its runner-determined sharding with
 * a GroupByKey of every row, held in memory, so the heap grew with the table. Bundle files need no
 * shuffle on any runner; a bundle that fails leaves a file no output names, which the commit never
 * moves and the staging clean-up deletes.
 */
public class StageTable extends PTransform<PCollection<GenericRecord>, PCollection<StagedFile>> {
  /**
   * A writer holds its row group in memory until it is this large. Parquet's default, 128 MB, let
   * the heap grow with the table on runners whose bundles are long (Flink writes a task's whole
   * input to one file), and a run has a writer open per table, part and worker thread.
   */
  static final int ROW_GROUP_BYTES = 16 << 20;

  private final OutputLayout layout;
  private final String runId;
  private final Destination destination;
  private final Part part;
  private final String schemaJson;

  public StageTable(OutputLayout layout, String runId, Destination destination, Part part, Schema schema) {
    this.layout = layout;
    this.runId = runId;
    this.destination = destination;
    this.part = part;
    this.schemaJson = schema.toString();
  }

  @Override
  public PCollection<StagedFile> expand(PCollection<GenericRecord> rows) {
    return rows.apply("Write bundle files", ParDo.of(new WriteBundleFn(
            layout.stagingDir(runId, destination, part), destination.key(), part, schemaJson)))
        .setCoder(SerializableCoder.of(StagedFile.class));
  }

  private static class WriteBundleFn extends DoFn<GenericRecord, StagedFile> {
    private final String directory;
    private final String destination;
    private final Part part;
    private final String schemaJson;
    private transient FileIO.Sink<GenericRecord> sink;
    private transient boolean open;
    private transient WritableByteChannel channel;
    private transient String path;

    WriteBundleFn(String directory, String destination, Part part, String schemaJson) {
      this.directory = directory;
      this.destination = destination;
      this.part = part;
      this.schemaJson = schemaJson;
    }

    @Setup
    public void setup() {
      // One configuration for every file: a default one parses Hadoop's XML resources each time,
      // which was a twentieth of the DirectRunner's CPU. Parquet's own defaults need none of them.
      sink = ParquetIO.sink(new Schema.Parser().parse(schemaJson))
          .withConfiguration(new Configuration(false))
          .withRowGroupSize(ROW_GROUP_BYTES);
    }

    @StartBundle
    public void start() {
      teardown(); // a bundle that failed on this instance leaves its file behind, unnamed
      open = false;
    }

    @ProcessElement
    public void process(@Element GenericRecord row) throws IOException {
      if (!open) {
        path = directory + "part-" + UUID.randomUUID() + ".parquet";
        channel = FileSystems.create(FileSystems.matchNewResource(path, false), "application/octet-stream");
        sink.open(channel);
        open = true;
      }
      sink.write(row);
    }

    @FinishBundle
    public void finish(FinishBundleContext context) throws IOException {
      if (!open) {
        return;
      }
      try {
        sink.flush(); // closes the Parquet writer, and with it the channel
        if (channel.isOpen()) {
          channel.close();
        }
      } finally {
        open = false;
      }
      context.output(new StagedFile(destination, part, path), GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE);
    }

    @Teardown
    public void teardown() {
      if (channel != null && channel.isOpen()) {
        try {
          channel.close(); // a bundle that failed: its partial file is left for the clean-up
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
  }
}
