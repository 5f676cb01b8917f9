package com.example.connector.sink;

import java.io.Serializable;

/**
 * Where everything lives under the output root (a local path or any Beam {@code FileSystems}
 * URI, such as {@code gs://bucket/prefix}).
 *
 * <pre>
 * ROOT/CATALOG/SCHEMA/TABLE/RUN-part-*.parquet           the table a reader queries
 * ROOT/CATALOG/SCHEMA/TABLE/_changes/RUN-part-*.parquet  its change feed (not for append tables,
 *                                                        whose table is their feed)
 * ROOT/_state/CATALOG.SCHEMA.TABLE.json                  the table's manifest and cursors
 * ROOT/_state/_commits/RUN.json                          a run's commit record while it is applied
 * ROOT/_staging/RUN/CATALOG.SCHEMA.TABLE/{table,changes}/  a run's files before its commit
 * </pre>
 *
 * <p>Hadoop-style readers (Spark, Hive) skip names starting with {@code _}, so pointing one at the
 * table's directory reads the table and not its change feed; a glob of {@code TABLE/*.parquet}
 * does the same for DuckDB and the like.
 */
public record OutputLayout(String root) implements Serializable {

  public OutputLayout {
    root = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
  }

  public String tableDir(Destination d) {
    return root + "/" + d.catalog() + "/" + d.schema() + "/" + d.table() + "/";
  }

  public String changesDir(Destination d) {
    return tableDir(d) + "_changes/";
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

  public String stagingDir(String runId, Destination d, StagedFile.Part part) {
    return stagingDir(runId, d) + part.name().toLowerCase(java.util.Locale.ROOT) + "/";
  }
}
