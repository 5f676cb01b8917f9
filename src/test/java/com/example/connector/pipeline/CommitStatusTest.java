package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.example.connector.table.CatalogConfig;
import com.example.connector.table.Destination;
import com.example.connector.table.SnapshotSummary;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a failed run says about its commit: only what the tables' snapshots show. */
class CommitStatusTest {
  private static final String RUN = "20260101T000000Z-abcdef";
  private static final Destination USERS = new Destination("main", "example", "users");
  private static final Destination EVENTS = new Destination("main", "example", "events");

  @TempDir Path dir;

  private Table create(Catalog catalog, Destination d) {
    return catalog.createTable(d.identifier(),
        new Schema(Types.NestedField.optional(1, "id", Types.StringType.get())), null, Map.of("format-version", "2"));
  }

  @Test
  void nothingWasCommittedWhenNoTableHoldsASnapshotOfTheRun() {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Catalog catalog = config.load();
    create(catalog, USERS);
    create(catalog, EVENTS).newAppend().set(SnapshotSummary.RUN_ID, "20251231T000000Z-000000").commit();
    assertEquals("nothing was committed", IngestMain.commitStatus(RUN, config, List.of(USERS, EVENTS)));
  }

  @Test
  void namesTheTablesHoldingASnapshotOfTheRun() {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Catalog catalog = config.load();
    create(catalog, USERS).newAppend().set(SnapshotSummary.RUN_ID, RUN).commit();
    create(catalog, EVENTS);
    assertEquals("run " + RUN + " committed main.example.users (each with its cursors; the next run reads"
        + " the others on from their own cursors)", IngestMain.commitStatus(RUN, config, List.of(USERS, EVENTS)));
  }

  @Test
  void namesAChangeFeedCommittedBeforeItsTable() {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Catalog catalog = config.load();
    create(catalog, USERS);
    create(catalog, USERS.changeFeed()).newAppend().set(SnapshotSummary.RUN_ID, RUN).commit();
    assertEquals("run " + RUN + " committed main.example.users__changes (each with its cursors; the next run reads"
        + " the others on from their own cursors)", IngestMain.commitStatus(RUN, config, List.of(USERS)));
  }

  @Test
  void anUncheckableCatalogSaysSoRatherThanGuess() {
    CatalogConfig config = CatalogConfig.of("example", "jdbc", null, "jdbc:nosuchdriver:x", dir.toString(),
        dir.toString(), Map.of());
    String status = IngestMain.commitStatus(RUN, config, List.of(USERS));
    assertEquals(true, status.startsWith("whether run " + RUN + " committed could not be checked ("), status);
    assertEquals(true, status.endsWith("); the next run's summary shows each table's cursor"), status);
  }
}
