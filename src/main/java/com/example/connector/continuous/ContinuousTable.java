package com.example.connector.continuous;

import com.example.connector.merge.MergeRule;
import com.example.connector.table.TableTarget;
import java.io.Serializable;
import java.util.Map;
import org.apache.avro.Schema;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What the committer of one table of a continuous run needs: where the table is, how its rows
 * merge, and where each of its feeds' reads started when the table holds no cursor yet.
 *
 * @param cursorField the source's cursor column (null for a snapshot table)
 * @param feedStarts per feed ({@code records}, {@code deleted_records}), where its read starts
 *     when the table has no cursor for it; empty for a snapshot table
 * @param runId the run's id: commits are named after it and the span they commit
 * @param tableUuids the UUIDs of the table and its change feed as the run planned them, by
 *     destination key: one dropped and created again under its name is another table, whose
 *     cursors and rows the run's plan knows nothing of
 */
public record ContinuousTable(TableTarget target, MergeRule merge, String feedSchemaJson,
    @Nullable String cursorField, Map<String, Long> feedStarts, boolean snapshot, String runId,
    Map<String, String> tableUuids)
    implements Serializable {

  public ContinuousTable {
    feedStarts = Map.copyOf(feedStarts);
    tableUuids = Map.copyOf(tableUuids);
  }

  public String key() {
    return target.destination().key();
  }

  public Schema feedSchema() {
    return new Schema.Parser().parse(feedSchemaJson);
  }
}
