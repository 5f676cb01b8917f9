package com.example.connector.read;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.TableDescriptor;
import com.example.connector.client.SourceConfig;
import java.io.Serializable;

/**
 * What every read of one destination table shares: how to reach the source, what the table
 * looks like, the run's stamp, and the namespace of its Beam metrics (the destination table).
 */
public record ReadContext(
    SourceConfig source, TableDescriptor table, RunStamp stamp, String metricsNamespace)
    implements Serializable {

  /** The destination row schema, as JSON (Avro schemas travel as text). */
  public String rowSchemaJson() {
    return RecordSchemas.schemaOf(table).toString();
  }
}
