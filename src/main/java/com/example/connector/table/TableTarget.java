package com.example.connector.table;

import java.io.Serializable;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.exceptions.NoSuchTableException;

/** A destination table in its catalog: what a worker needs to load it. */
public record TableTarget(CatalogConfig catalog, Destination destination) implements Serializable {

  /** The table, which the run planned; dropped since, an error saying so. */
  public Table load() {
    return load(catalog.load(), destination);
  }

  static Table load(Catalog catalog, Destination destination) {
    try {
      return catalog.loadTable(destination.identifier());
    } catch (NoSuchTableException e) {
      throw new IllegalStateException("table " + destination.key() + " was dropped while this run read it (it was"
          + " there when the run was planned), so this run commits nothing more to it. Run again: it creates the table"
          + " and reads its source table from the start", e);
    }
  }

  public TableTarget changeFeed() {
    return new TableTarget(catalog, destination.changeFeed());
  }

  @Override
  public String toString() {
    return destination.key();
  }
}
