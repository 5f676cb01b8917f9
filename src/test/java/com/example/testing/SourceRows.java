package com.example.testing;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.TableDescriptor;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;

/** Source records as a read converts them, for tests that hand-make a batch. */
public final class SourceRows {
  private SourceRows() {}

  /** {@link RecordSchemas#toRow}, failing on a field beyond the table's columns: tests make whole records. */
  public static GenericRecord toRow(Schema schema, TableDescriptor table, JsonNode record, RunStamp stamp, String operation) {
    return RecordSchemas.toRow(schema, table, record, stamp, operation, columns -> {
      throw new AssertionError("a record of table " + table.name() + " has fields beyond its columns: " + columns);
    });
  }
}
