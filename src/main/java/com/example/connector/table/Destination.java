package com.example.connector.table;

import java.io.Serializable;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * Where a table lands: {@code catalog.schema.table}, the Iceberg table {@code table} in the
 * namespace {@code catalog.schema} (in the default Hadoop catalog, the directory
 * {@code WAREHOUSE/catalog/schema/table/}).
 */
public record Destination(String catalog, String schema, String table) implements Serializable {
  /** What an SCD table's change feed adds to the table's name (reserved: no destination ends so). */
  public static final String CHANGE_FEED_SUFFIX = "__changes";

  /** {@code catalog.schema.table}: the name in metrics, the summary and errors. */
  public String key() {
    return catalog + "." + schema + "." + table;
  }

  public TableIdentifier identifier() {
    return TableIdentifier.of(Namespace.of(catalog, schema), table);
  }

  /** The table of an SCD table's change feed: every change each run read, appended. */
  public Destination changeFeed() {
    return new Destination(catalog, schema, table + CHANGE_FEED_SUFFIX);
  }

  @Override
  public String toString() {
    return key();
  }
}
