package com.example.connector.sink;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.WriteFilesResult;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;

/**
 * Writes one table's rows of this run as Parquet files (snappy) into the run's staging
 * directory with Beam's {@link FileIO} and {@link ParquetIO}. Nothing a reader sees changes
 * until {@link Committer} commits the run.
 */
public class StageTable extends PTransform<PCollection<GenericRecord>, WriteFilesResult<Void>> {
  private final String stagingDir;
  private final String schemaJson;

  public StageTable(String stagingDir, Schema schema) {
    this.stagingDir = stagingDir;
    this.schemaJson = schema.toString();
  }

  @Override
  public WriteFilesResult<Void> expand(PCollection<GenericRecord> rows) {
    Schema schema = new Schema.Parser().parse(schemaJson);
    return rows.apply(
        FileIO.<GenericRecord>write()
            .via(ParquetIO.sink(schema))
            .to(stagingDir)
            .withPrefix("part")
            .withSuffix(".parquet"));
  }
}
