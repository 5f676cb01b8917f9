package com.example.connector.sink;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a committed run leaves for the next one, per destination table, stored as readable JSON.
 *
 * @param cursors per feed ({@code records}, {@code deleted_records}), an ISO-8601 instant: every
 *     record whose cursor is below it has been read (the next run reads from it, inclusive)
 */
public record TableState(
    @JsonProperty("destination") String destination,
    @JsonProperty("source_table") String sourceTable,
    @JsonProperty("ingestion_type") String ingestionType,
    @JsonProperty("cursors") Map<String, String> cursors,
    @JsonProperty("last_run_id") String lastRunId,
    @JsonProperty("committed_at") String committedAt)
    implements Serializable {

  public TableState {
    cursors = new TreeMap<>(cursors);
  }
}
