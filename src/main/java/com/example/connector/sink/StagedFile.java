package com.example.connector.sink;

import java.io.Serializable;

/** A file a run staged for a destination table: part of the table's next version, or of its change feed. */
public record StagedFile(String destination, Part part, String path) implements Serializable {
  public enum Part {
    TABLE,
    CHANGES
  }
}
