package com.example.connector.pipeline;

import com.example.connector.sink.OutputLayout;
import com.example.connector.sink.RunCommit;
import java.time.Instant;
import java.util.List;

/**
 * A validated run: its id, the cap of every cursor (the source's clock at the start), its tables
 * and its commit.
 */
public record IngestPlan(String runId, Instant cap, OutputLayout layout, List<PlannedTable> tables) {

  public IngestPlan {
    tables = List.copyOf(tables);
  }

  public RunCommit commit() {
    return new RunCommit(runId, tables.stream().map(PlannedTable::commit).toList());
  }
}
