package com.example.connector.sink;

import com.example.connector.sink.StagedFile.Part;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * Writes rows as Parquet files (snappy) into a run's staging directory with Beam's {@link FileIO}
 * and {@link ParquetIO}, and names each file it wrote. Nothing a reader sees changes until
 * {@link Committer} commits the run.
 */
public class StageTable extends PTransform<PCollection<GenericRecord>, PCollection<StagedFile>> {
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
    Schema schema = new Schema.Parser().parse(schemaJson);
    String key = destination.key();
    Part part = this.part;
    return rows.apply(
            FileIO.<GenericRecord>write()
                .via(ParquetIO.sink(schema))
                .to(layout.stagingDir(runId, destination, part))
                .withPrefix("part")
                .withSuffix(".parquet"))
        .getPerDestinationOutputFilenames()
        .apply(
            "Name staged files",
            MapElements.into(TypeDescriptor.of(StagedFile.class))
                .via(file -> new StagedFile(key, part, file.getValue())))
        .setCoder(SerializableCoder.of(StagedFile.class));
  }
}
