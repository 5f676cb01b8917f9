package com.example.connector.table;

import java.io.Serializable;

/** A committed row by where it is: its data file and position in it. What a position delete names. */
public record RowPosition(String file, long position) implements Serializable, Comparable<RowPosition> {
  @Override
  public int compareTo(RowPosition other) {
    int byFile = file.compareTo(other.file);
    return byFile != 0 ? byFile : Long.compare(position, other.position);
  }
}
