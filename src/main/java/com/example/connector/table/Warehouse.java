package com.example.connector.table;

import com.example.connector.ConfigurationException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The destination tables in their catalog, as the planner sees them before a run reads: finds,
 * creates (format v2, merge-on-read) and evolves them, and lists a snapshot's files.
 */
public final class Warehouse {
  /** The Parquet row group size of the tables the connector creates. */
  public static final long ROW_GROUP_BYTES = 16L << 20;
  /** How often a run tries to add its new columns to a table other writers keep committing to. */
  private static final int SCHEMA_COMMIT_ATTEMPTS = 4;
  private final Catalog catalog;

  public Warehouse(CatalogConfig config) {
    this.catalog = config.load();
  }

  public @Nullable Table find(Destination d) {
    try {
      return catalog.loadTable(d.identifier());
    } catch (NoSuchTableException e) {
      return null;
    }
  }

  /**
   * Creates the table, empty (no snapshot); fails if another run just did. Row-level
   * changes are merge-on-read: position deletes, not rewrites. Row groups are {@link
   * #ROW_GROUP_BYTES} (Iceberg's default is 128 MB).
   */
  public Table create(Destination d, org.apache.iceberg.Schema schema, Map<String, String> connectorProperties) {
    if (catalog instanceof SupportsNamespaces namespaces && !namespaces.namespaceExists(d.identifier().namespace())) {
      try {
        namespaces.createNamespace(d.identifier().namespace());
      } catch (AlreadyExistsException e) {
        // another run created it meanwhile
      }
    }
    Map<String, String> properties = new HashMap<>(connectorProperties);
    properties.put(TableProperties.FORMAT_VERSION, "2");
    properties.put(TableProperties.DELETE_MODE, "merge-on-read");
    properties.put(TableProperties.UPDATE_MODE, "merge-on-read");
    properties.put(TableProperties.MERGE_MODE, "merge-on-read");
    // A writer buffers one row group, and a merge reads a file's row groups on several workers.
    properties.putIfAbsent(TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES, Long.toString(ROW_GROUP_BYTES));
    try {
      return catalog.buildTable(d.identifier(), schema).withProperties(properties).create();
    } catch (AlreadyExistsException e) {
      // Its source table, merge and filters are that run's, which the planner checked only on tables it found.
      throw new IllegalStateException("table " + d.key() + " was created by another run while this run planned it;"
          + " run again, and it checks the table as that run created it. Run one ingestion per table at a time", e);
    }
  }

  /**
   * Checks that every column the table and the run both have is of the same type (a changed type
   * fails the run before anything is written), then, if {@code apply}, adds the run's new
   * columns to the table (schema evolution; they are optional, as every source column is).
   */
  public static void evolve(Table table, org.apache.iceberg.Schema runSchema, String destination, boolean apply) {
    for (int attempt = 1; ; attempt++) {
      List<String> added = new ArrayList<>();
      check(table.schema().asStruct(), runSchema.asStruct(), "", destination, added);
      if (!apply || added.isEmpty()) {
        return;
      }
      try {
        table.updateSchema().unionByNameWith(runSchema).commit();
        return;
      } catch (CommitFailedException e) {
        // Iceberg does not retry a schema change: another writer committed since the table was
        // loaded (a compaction, a run adding the same column). Check and add on what it holds now.
        if (attempt == SCHEMA_COMMIT_ATTEMPTS) {
          throw new IllegalStateException("table " + destination + ": adding the column(s) " + added
              + " failed " + attempt + " times, as other writers kept committing to the table; run again", e);
        }
        table.refresh();
      }
    }
  }

  private static void check(Types.StructType table, Types.StructType run, String prefix, String destination,
      List<String> added) {
    for (Types.NestedField column : run.fields()) {
      Types.NestedField existing = table.field(column.name());
      String name = prefix + column.name();
      if (existing == null) {
        added.add(name);
        continue;
      }
      Type had = existing.type();
      Type has = column.type();
      if (had.isStructType() && has.isStructType()) {
        check(had.asStructType(), has.asStructType(), name + ".", destination, added);
      } else if (!had.equals(has)) {
        throw new ConfigurationException("table " + destination + ": column '" + name + "' is " + had
            + " in the table but the source now sends " + has + "; an Iceberg column cannot change to that type."
            + " Land the table on another destination_table, or drop and rebuild " + destination);
      }
    }
  }

  /**
   * The data files of a snapshot, each with the delete files that apply to it, and with their
   * column bounds: a merge skips the files whose key bounds hold no changed key (a scan drops them
   * unless asked).
   */
  public static List<FileScanTask> files(Table table, long snapshotId) {
    List<FileScanTask> tasks = new ArrayList<>();
    try (CloseableIterable<FileScanTask> planned =
        table.newScan().useSnapshot(snapshotId).includeColumnStats().planFiles()) {
      planned.forEach(tasks::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return tasks;
  }
}
