package com.example.connector.pipeline;

import com.example.connector.catalog.TableOptions;
import com.example.connector.read.CursorFeed;
import com.example.connector.read.ReadContext;
import com.example.connector.read.SnapshotRead;
import com.example.connector.sink.Destination;
import com.example.connector.sink.TableCommit;
import java.util.List;
import javax.annotation.Nullable;

/**
 * One table of a run, fully resolved before anything is read: where it lands, how it is read
 * (a snapshot, or one or two cursor feeds), and what its commit will store.
 */
public record PlannedTable(
    Destination destination,
    ReadContext context,
    TableOptions options,
    @Nullable SnapshotRead snapshot,
    List<CursorFeed> feeds,
    TableCommit commit) {

  public PlannedTable {
    feeds = List.copyOf(feeds);
  }
}
