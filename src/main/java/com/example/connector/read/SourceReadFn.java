package com.example.connector.read;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.client.ExampleClient;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;

/**
 * What the three read DoFns share: restrictions that are {@link OffsetRange}s (of cursor
 * microseconds or of page numbers), a client per DoFn instance, the conversion of source records
 * to destination rows, and the per-table counters {@code records}, {@code deletes},
 * {@code pages} and {@code retries} in the destination table's metrics namespace.
 */
// Public: a package-private base would make javac add bridge methods with raw return types to the
// public DoFns, which Beam's signature checks reject.
public abstract class SourceReadFn<ElementT> extends DoFn<ElementT, GenericRecord> {
  protected final ReadContext context;
  protected final Counter records;
  protected final Counter deletes;
  protected final Counter pages;
  private final Counter retries;

  protected transient ExampleClient client;
  private transient Schema rowSchema;

  protected SourceReadFn(ReadContext context) {
    this.context = context;
    this.records = Metrics.counter(context.metricsNamespace(), "records");
    this.deletes = Metrics.counter(context.metricsNamespace(), "deletes");
    this.pages = Metrics.counter(context.metricsNamespace(), "pages");
    this.retries = Metrics.counter(context.metricsNamespace(), "retries");
  }

  @Setup
  public void setup() {
    client = ExampleClient.create(context.source(), (path, reason) -> retries.inc());
    rowSchema = new Schema.Parser().parse(context.rowSchemaJson());
  }

  @GetRestrictionCoder
  public Coder<OffsetRange> restrictionCoder() {
    return OffsetRange.Coder.of();
  }

  @Teardown
  public void teardown() {
    if (client != null) {
      client.close();
    }
  }

  protected void emit(OutputReceiver<GenericRecord> out, ObjectNode record, String operation) {
    out.output(RecordSchemas.toRow(rowSchema, context.table(), record, context.stamp(), operation));
    records.inc();
    if ("delete".equals(operation)) {
      deletes.inc();
    }
  }
}
