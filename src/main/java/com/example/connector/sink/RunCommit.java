package com.example.connector.sink;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;
import java.util.List;

/** Everything a run commits, decided before it reads: written as the run's commit record. */
public record RunCommit(
    @JsonProperty("run_id") String runId, @JsonProperty("tables") List<TableCommit> tables)
    implements Serializable {

  public RunCommit {
    tables = List.copyOf(tables);
  }
}
