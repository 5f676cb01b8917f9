package com.example.connector.sink;

import java.io.Serializable;

/**
 * Where everything lives under the output root (a local path or any Beam {@code FileSystems}
 * URI, such as {@code gs://bucket/prefix}).
 *
 * <pre>
 * ROOT/CATALOG/SCHEMA/TABLE/RUN-part-*.parquet    the table a reader queries
 * ROOT/_state/CATALOG.SCHEMA.TABLE.json           committed cursors per table (readable JSON)
 * ROOT/_state/_commits/RUN.json                   a run's commit record while it is applied
 * ROOT/_staging/RUN/CATALOG.SCHEMA.TABLE/         a run's files before its commit
 * </pre>
 */
public record OutputLayout(String root) implements Serializable {

  public OutputLayout {
    root = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
  }

  public String tableDir(Destination d) {
    return root + "/" + d.catalog() + "/" + d.schema() + "/" + d.table() + "/";
  }

  public String stateFile(Destination d) {
    return root + "/_state/" + d.key() + ".json";
  }

  public String commitsDir() {
    return root + "/_state/_commits/";
  }

  public String commitRecord(String runId) {
    return commitsDir() + runId + ".json";
  }

  public String stagingRoot() {
    return root + "/_staging/";
  }

  public String stagingDir(String runId, Destination d) {
    return stagingRoot() + runId + "/" + d.key() + "/";
  }
}
