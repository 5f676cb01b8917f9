package com.example.connector.sink;

import com.example.connector.merge.MergeRule;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a committed run leaves for the next one, per destination table, stored as readable JSON:
 * the table's manifest (its current files) and the cursors the run read up to.
 *
 * @param merge how the table is kept (SCD type, keys, sequence); a later run must keep it the
 *     same way, or the committed table would not mean what its rows say
 * @param cursors per feed ({@code records}, {@code deleted_records}), an ISO-8601 instant: every
 *     record whose cursor is below it has been read (the next run reads from it, inclusive)
 * @param tableFiles the files of the table's current version, relative to the table's directory
 */
public record TableState(
    @JsonProperty("destination") String destination,
    @JsonProperty("source_table") String sourceTable,
    @JsonProperty("ingestion_type") String ingestionType,
    @JsonProperty("merge") MergeRule merge,
    @JsonProperty("cursors") Map<String, String> cursors,
    @JsonProperty("table_files") List<String> tableFiles,
    @JsonProperty("last_run_id") String lastRunId,
    @JsonProperty("committed_at") String committedAt)
    implements Serializable {

  public TableState {
    cursors = new TreeMap<>(cursors);
    tableFiles = List.copyOf(tableFiles);
  }

  public TableState withTableFiles(List<String> files) {
    return new TableState(destination, sourceTable, ingestionType, merge, cursors, files, lastRunId, committedAt);
  }
}
