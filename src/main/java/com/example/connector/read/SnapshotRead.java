package com.example.connector.read;

import java.io.Serializable;
import java.util.Map;

/** A full read of a table without a cursor, page by page; {@code params} are its filters. */
public record SnapshotRead(String table, Map<String, String> params) implements Serializable {
  public SnapshotRead {
    params = Map.copyOf(params);
  }
}
