package com.example.connector.catalog;

/** How changes to a CDC or snapshot table are kept at the destination. */
public enum ScdType {
  /** Keep the latest version of each row (the default). */
  SCD_TYPE_1,
  /** Keep every version of each row, ordered by {@code sequence_by}. */
  SCD_TYPE_2
}
