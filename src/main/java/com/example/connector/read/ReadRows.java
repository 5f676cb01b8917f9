package com.example.connector.read;

import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;

/**
 * A read DoFn ({@link SourceReadFn}) and the rows it reads, one destination row per element.
 *
 * <p>The Splittable DoFn outputs immutable lists of rows, up to {@value SourceReadFn#CHUNK_ROWS}
 * rows or the rest of a source page each, not one element per row; a plain {@code ParDo} then
 * hands the rows on one by one. Runners pay for Splittable DoFn outputs per element: the DirectRunner checkpoints after
 * about 100 outputs or 1 s and starts a new bundle (with a fresh translation of the ParDo) for the
 * residual, which made it cost a bundle per ~100 records; with a page (or chunk) per output it
 * costs one per ~100 pages. A list holds at most one chunk, so memory does not grow with pages.
 */
public final class ReadRows<ElementT>
    extends PTransform<PCollection<ElementT>, PCollection<GenericRecord>> {
  private final SourceReadFn<ElementT> fn;
  private final String schemaJson;

  public ReadRows(SourceReadFn<ElementT> fn, Schema rowSchema) {
    this.fn = fn;
    this.schemaJson = rowSchema.toString();
  }

  @Override
  public PCollection<GenericRecord> expand(PCollection<ElementT> input) {
    Schema schema = new Schema.Parser().parse(schemaJson);
    AvroCoder<GenericRecord> rowCoder = AvroCoder.of(schema);
    return input
        .apply("Pages", ParDo.of(fn))
        .setCoder(ListCoder.of(rowCoder))
        .apply("Rows", ParDo.of(new Unbatch()))
        .setCoder(rowCoder);
  }

  /** One output per row of each list. */
  static final class Unbatch extends DoFn<List<GenericRecord>, GenericRecord> {
    @ProcessElement
    public void process(@Element List<GenericRecord> rows, OutputReceiver<GenericRecord> out) {
      for (GenericRecord row : rows) {
        out.output(row);
      }
    }
  }
}
