package com.example.connector.table;

import java.io.Serializable;
import org.apache.iceberg.Table;

/** A destination table in its catalog: what a worker needs to load it. */
public record TableTarget(CatalogConfig catalog, Destination destination) implements Serializable {

  public Table load() {
    return catalog.load().loadTable(destination.identifier());
  }

  public TableTarget changeFeed() {
    return new TableTarget(catalog, destination.changeFeed());
  }

  @Override
  public String toString() {
    return destination.key();
  }
}
