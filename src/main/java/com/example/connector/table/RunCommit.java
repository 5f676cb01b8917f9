package com.example.connector.table;

import java.io.Serializable;
import java.util.List;

/**
 * Everything a run commits, decided before it reads: per table, the snapshot it started from and
 * the cursors it commits. An SCD table's change feed comes before the table.
 */
public record RunCommit(String runId, String committedAt, List<TableCommit> tables) implements Serializable {

  public RunCommit {
    tables = List.copyOf(tables);
  }
}
