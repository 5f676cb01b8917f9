package com.example.connector.sink;

import java.io.Serializable;

/** Where a table lands: {@code catalog.schema.table}, each a plain path segment. */
public record Destination(String catalog, String schema, String table) implements Serializable {

  /** {@code catalog.schema.table}: the name in state files, metrics and the summary. */
  public String key() {
    return catalog + "." + schema + "." + table;
  }

  @Override
  public String toString() {
    return key();
  }
}
