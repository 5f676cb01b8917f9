package com.example.connector.table;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Adding a run's new columns to a real Iceberg table (a Hadoop catalog) that other writers commit to. */
class WarehouseTest {
  private static final Schema SCHEMA = new Schema(
      List.of(Types.NestedField.required(1, "id", Types.StringType.get())), Set.of(1));
  private static final Schema WITH_NAME = new Schema(
      List.of(Types.NestedField.required(1, "id", Types.StringType.get()),
          Types.NestedField.optional(2, "name", Types.StringType.get())), Set.of(1));

  @TempDir Path dir;

  /**
   * Another writer commits between the planner's load of the table and its schema change (another
   * run adding the same column, a commit of rows): the column is added once. Before, planning
   * failed with Iceberg's bare "Cannot commit changes based on stale table metadata".
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"the same column", "a commit of rows"})
  void aColumnIsAddedWhenAnotherWriterCommittedSinceTheTableWasLoaded(String other) {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Destination users = new Destination("main", "example", "users");
    new Warehouse(config).create(users, SCHEMA, Map.of());
    Table loaded = config.load().loadTable(users.identifier());
    AtomicReference<Runnable> race = new AtomicReference<>(() -> {
      Table theirs = config.load().loadTable(users.identifier());
      if (other.equals("the same column")) {
        theirs.updateSchema().unionByNameWith(WITH_NAME).commit();
      } else {
        theirs.newAppend().set("example.run-id", "run-2").commit();
      }
    });
    Table racing = new BaseTable(new BeforeCommitOperations(((HasTableOperations) loaded).operations(), base -> {
      Runnable r = race.getAndSet(null);
      if (r != null) {
        r.run();
      }
    }), loaded.name());

    Warehouse.evolve(racing, WITH_NAME, users.key(), true);

    Table after = config.load().loadTable(users.identifier());
    List<String> columns = new ArrayList<>();
    after.schema().columns().forEach(c -> columns.add(c.name()));
    assertEquals(List.of("id", "name"), columns);
    assertEquals(other.equals("a commit of rows"), after.currentSnapshot() != null, "the other writer's commit kept");
  }
}
