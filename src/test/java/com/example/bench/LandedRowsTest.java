package com.example.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.example.connector.table.CatalogConfig;
import com.example.connector.table.SnapshotSummary;
import com.example.testing.IcebergFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmarks score a run only if its tables, read back, hold what the source holds: the
 * ingest benchmark's tables each key once, in the source's number; the merge benchmark's users
 * each once, with the emails the writes gave.
 */
class LandedRowsTest {
  private static final Map<String, String> KEYS = Map.of("products", "product_id", "events", "event_id",
      "users", "user_id", "orders", "order_id", "metrics", "metric_id");

  @TempDir Path dir;

  @Test
  void anIngestRunCountsOnlyWithEachKeyOnceInTheSourcesNumber() {
    Map<String, Long> source = new LinkedHashMap<>(Map.of("products", 2L, "events", 3L, "users", 3L, "orders", 1L,
        "metrics", 2L));
    Catalog catalog = CatalogConfig.hadoop(dir.toString()).load();
    Map<String, Table> tables = new LinkedHashMap<>();
    source.forEach((table, n) -> {
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        keys.add(table + "_" + i);
      }
      tables.put(table, table(catalog, table, keys));
    });
    assertNull(IngestBenchmark.landed(dir, source), "every table as the source");

    // users: one key in two rows and one missing, as many rows as the source's (a count alone passes it).
    Table users = tables.get("users");
    DataFile first = users.currentSnapshot().addedDataFiles(users.io()).iterator().next();
    DataFile copy = IcebergFiles.dataFile(users, List.of(row(users, "user_id", "users_0")));
    users.newAppend().appendFile(copy).commit();
    users.newRowDelta().addDeletes(IcebergFiles.positionDeletes(users, first, 2)).commit();
    assertEquals(3, SnapshotSummary.liveRows(users.currentSnapshot()), "the merge benchmark's 'table rows' before: all well");
    assertEquals("users: 3 rows of 2 keys, where the source has 3 keys; in more than one row: [users_0]",
        IngestBenchmark.landed(dir, source));

    // The copy deleted too (deletes applied, as a merge's are read): the key is still lost.
    users.newRowDelta().addDeletes(IcebergFiles.positionDeletes(users, copy, 0)).commit();
    assertEquals("users: 2 rows of 2 keys, where the source has 3 keys", IngestBenchmark.landed(dir, source));
  }

  @Test
  void aMergeRunCountsOnlyWithEachChangedUsersNewEmail() {
    Map<String, String> changed = Map.of("user_0000", "changed-0@example.com");
    assertNull(MergeBenchmark.wrongMerge(Map.of("user_0000", List.of("changed-0@example.com"),
        "user_0001", List.of("user1@example.com"), "user_0002", List.of("null")), 3, changed));

    assertEquals("users: 0 rows with a changed email, where 1 users were changed; without their new email: [user_0000]",
        MergeBenchmark.wrongMerge(Map.of("user_0000", List.of("user0@example.com"),
            "user_0001", List.of("user1@example.com"), "user_0002", List.of("null")), 3, changed), "a change not applied");
    assertEquals("users: 2 rows with a changed email, where 1 users were changed",
        MergeBenchmark.wrongMerge(Map.of("user_0000", List.of("changed-0@example.com"),
            "user_0001", List.of("changed-0@example.com"), "user_0002", List.of("null")), 3, changed),
        "a change applied to another user too");
    assertEquals("users: 4 rows of 3 keys, where the source has 3 keys; in more than one row: [user_0000]",
        MergeBenchmark.wrongMerge(Map.of("user_0000", List.of("user0@example.com", "changed-0@example.com"),
            "user_0001", List.of("user1@example.com"), "user_0002", List.of("null")), 3, changed),
        "the old row left beside the new");
  }

  /** A table of one key column holding {@code keys}, one row each. */
  private static Table table(Catalog catalog, String name, List<String> keys) {
    String key = KEYS.get(name);
    Table table = catalog.createTable(TableIdentifier.of("main", "example", name),
        new Schema(Types.NestedField.optional(1, key, Types.StringType.get())), PartitionSpec.unpartitioned());
    table.newAppend().appendFile(IcebergFiles.dataFile(table, keys.stream().map(k -> row(table, key, k)).toList()))
        .commit();
    return table;
  }

  private static Record row(Table table, String column, String value) {
    Record r = GenericRecord.create(table.schema());
    r.setField(column, value);
    return r;
  }
}
