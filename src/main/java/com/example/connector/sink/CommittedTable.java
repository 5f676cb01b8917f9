package com.example.connector.sink;

import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/** Reads a table's committed version: the files its manifest listed when the run was planned. */
public class CommittedTable extends PTransform<PBegin, PCollection<GenericRecord>> {
  private final List<String> files;
  private final String schemaJson;

  public CommittedTable(List<String> files, Schema schema) {
    this.files = List.copyOf(files);
    this.schemaJson = schema.toString();
  }

  @Override
  public PCollection<GenericRecord> expand(PBegin begin) {
    Schema schema = new Schema.Parser().parse(schemaJson);
    if (files.isEmpty()) {
      return begin.apply("No committed version", Create.empty(AvroCoder.of(schema)));
    }
    return begin
        .apply("Manifest", Create.of(files))
        .apply("Match", FileIO.matchAll())
        .apply("Open", FileIO.readMatches())
        .apply("Read", ParquetIO.readFiles(schema))
        .setCoder(AvroCoder.of(schema));
  }
}
