package com.example.connector.pipeline;

import com.example.connector.table.CatalogConfig;
import com.example.connector.table.RunCommit;
import com.example.connector.table.TableCommit;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A validated run: its id, the cap of every cursor (the source's clock at the start), the
 * catalog its tables are in, its tables and its commit.
 */
public record IngestPlan(String runId, Instant cap, String committedAt, CatalogConfig catalog, List<PlannedTable> tables) {

  public IngestPlan {
    tables = List.copyOf(tables);
  }

  /** Every table's commit, an SCD table's change feed first (see {@code TableCommitter}). */
  public RunCommit commit() {
    List<TableCommit> commits = new ArrayList<>();
    for (PlannedTable t : tables) {
      if (t.changeFeedCommit() != null) {
        commits.add(t.changeFeedCommit());
      }
      commits.add(t.commit());
    }
    return new RunCommit(runId, committedAt, commits);
  }
}
