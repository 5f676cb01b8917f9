package com.example.connector.catalog;

/** How a table is read and what its rows mean, as in the connector documentation. */
public enum IngestionType {
  /** Every run reads the whole table; the new snapshot replaces the old one. */
  SNAPSHOT,
  /** Rows are only ever added; each is read once, by cursor. */
  APPEND,
  /** Rows change; changed rows are read by cursor and upserted by primary key. */
  CDC,
  /** As {@link #CDC}, plus a feed of tombstones for deleted rows. */
  CDC_WITH_DELETES;

  /** The lower-case name the documentation uses ({@code cdc_with_deletes}). */
  public String documentedName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
