package com.example.connector.catalog;

import java.util.Locale;

/** The source's column types (the API's {@code type} strings) and how each lands in Parquet. */
public enum FieldType {
  /** UTF-8 string. */
  STRING,
  /** 64-bit signed integer ({@code LongType}). */
  INTEGER,
  /** 64-bit float. */
  DOUBLE,
  /** An instant, UTC, microsecond precision (Parquet {@code TIMESTAMP(MICROS, UTC)}). */
  TIMESTAMP,
  /** A calendar date (Parquet {@code DATE}). */
  DATE,
  /** A nested record whose subfields are preserved. */
  STRUCT;

  public static FieldType fromSource(String type, String where) {
    try {
      return valueOf(type.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": unknown source type '" + type + "'");
    }
  }
}
