package com.example.connector.continuous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.Receivers;
import com.example.testing.SourceRows;
import com.example.connector.catalog.FieldType;
import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.ScdType;
import com.example.connector.catalog.SourceField;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.TableDescriptor;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.Password;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.connector.merge.MergeRule;
import com.example.connector.read.FeedBatch;
import com.example.connector.read.FollowSnapshotFn;
import com.example.connector.read.ReadContext;
import com.example.connector.read.SnapshotRead;
import com.example.connector.table.CatalogConfig;
import com.example.connector.table.Destination;
import com.example.connector.table.TableSchemas;
import com.example.connector.table.TableTarget;
import com.example.connector.table.Warehouse;
import com.example.crash.CrashCheck;
import com.example.source.ExampleSource;
import com.example.testing.IcebergFiles;
import com.example.testing.TestClock;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.DoFn.OutputReceiver;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.iceberg.Table;
import org.apache.iceberg.relocated.com.google.common.collect.ImmutableList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A continuous run's commits of a snapshot table ({@code products}) and its change feed. */
class IntervalCommitterSnapshotTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long T0 = Timestamps.toMicros(Instant.parse("2026-01-01T00:00:00Z"));
  private static final long SECOND = 1_000_000L;
  private static final Instant NOW = Instant.parse("2026-01-01T01:00:00Z");
  private static TableDescriptor products;
  private static Schema feedSchema;
  @TempDir Path dir;

  @BeforeAll
  static void describeProducts() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start();
        ExampleClient client = ExampleClient.create(new SourceConfig(source.baseUrl(), "u", Password.inline("p"),
            new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1))))) {
      products = TableCatalog.discover(client).table("products", "test");
    }
    feedSchema = RecordSchemas.schemaOf(products);
  }

  /**
   * The change feed's commit of a snapshot landed and the table's did not (the task died between
   * them, or another writer's commit failed the table's), and after a restore the runner hands the
   * same batch over again: the table gets it, the feed does not get it twice.
   */
  @Test
  void aSnapshotTheChangeFeedTookBeforeARestartIsNotAppendedToItTwice() {
    ContinuousTable t = productsTable();
    assertTrue(IntervalCommitter.commit(t, List.of(snapshot(10, product("prod_1", "a"), product("prod_2", "b"))),
        false, NOW, Map.of()).committed());
    FeedBatch second = snapshot(20, product("prod_1", "a2"), product("prod_2", "b"), product("prod_3", "c"));
    assertTrue(IntervalCommitter.commit(t, List.of(second), false, NOW, Map.of()).committed());
    // The table's commit of the second snapshot undone: the feed holds it, the table the first.
    Table table = t.target().load();
    table.manageSnapshots().rollbackTo(table.currentSnapshot().parentId()).commit();

    assertTrue(IntervalCommitter.commit(t, List.of(second), false, NOW, Map.of()).committed());

    assertEquals(3, CrashCheck.read(t.target().load()).size(), "the second snapshot");
    assertEquals(2 + 3, CrashCheck.read(t.target().changeFeed().load()).size(), "each snapshot once");
  }

  /**
   * A timestamp column (one the source added) holding the sentinels of "never" (9999-12-31) and
   * of "unset" (0001-01-01, Go's zero time): a snapshot compares every committed row with the new
   * snapshot's, and read back such a value as a count of nanoseconds, which overflows a long
   * beyond 1677 to 2262 (ArithmeticException): every snapshot after the first failed.
   */
  @Test
  void timestampsFarFromTheEpochAreComparedAtTheNextSnapshot() {
    List<SourceField> fields = new ArrayList<>(products.fields());
    fields.add(SourceField.of("discontinued_at", FieldType.TIMESTAMP, true));
    TableDescriptor withDates = new TableDescriptor(products.name(), fields, products.primaryKeys(),
        products.cursorField(), products.identityField(), products.ingestionType());
    Schema schema = RecordSchemas.schemaOf(withDates);
    ContinuousTable t = productsTable(schema);
    GenericRecord never = SourceRows.toRow(schema, withDates, JSON.createObjectNode().put("product_id", "prod_1")
        .put("discontinued_at", "9999-12-31T00:00:00Z"), new RunStamp("run-1", T0), "snapshot");
    GenericRecord unset = SourceRows.toRow(schema, withDates, JSON.createObjectNode().put("product_id", "prod_2")
        .put("discontinued_at", "0001-01-01T00:00:00Z"), new RunStamp("run-1", T0), "snapshot");
    assertTrue(IntervalCommitter.commit(t, List.of(snapshot(10, never, unset)), false, NOW, Map.of()).committed());
    long first = t.target().load().currentSnapshot().snapshotId();

    assertTrue(IntervalCommitter.commit(t, List.of(snapshot(20, never, unset)), false, NOW, Map.of()).committed());

    Table table = t.target().load();
    assertEquals(List.of(), ImmutableList.copyOf(table.currentSnapshot().addedDataFiles(table.io())),
        "nothing changed: nothing added after " + first);
    Map<String, Object> discontinued = new TreeMap<>();
    IcebergFiles.rows(table).forEach(r -> discontinued.put((String) r.getField("product_id"), r.getField("discontinued_at")));
    assertEquals(Map.of("prod_1", OffsetDateTime.parse("9999-12-31T00:00:00Z"),
        "prod_2", OffsetDateTime.parse("0001-01-01T00:00:00Z")), discontinued);
  }

  /**
   * The source's clock went back an hour between two snapshots of a continuous read (a clock
   * stepped back, a source of several hosts): the second snapshot, a product added, is still
   * committed, after the first, as a bounded run's is ({@code SnapshotClockTest}). Its time was
   * the source's clock, below the snapshot the table held, so every commit dropped it as one it had
   * committed already, until that clock came back past the first: the table stood still that long.
   */
  @Test
  void aSnapshotFollowedAfterTheSourcesClockWentBackIsCommitted() {
    TestClock clock = TestClock.frozenAt(Instant.parse("2026-01-01T00:00:00Z"));
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).nullRate(0).clock(clock).start()) {
      ReadContext context = new ReadContext(new SourceConfig(source.baseUrl(), "u", Password.inline("p"),
          new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1))), products, new RunStamp("run-1", T0),
          "main.example.products");
      SnapshotRead read = new SnapshotRead("products", Map.of());
      FollowSnapshotFn fn = new FollowSnapshotFn(context, read, Duration.ofSeconds(1), 0);
      List<FeedBatch> batches = new ArrayList<>();
      OutputReceiver<FeedBatch> out = Receivers.into(batches);
      ContinuousTable t = productsTable();
      fn.setup();
      try {
        RestrictionTracker<OffsetRange, Long> tracker = fn.newTracker(fn.initialRestriction());
        var watermark = fn.newWatermarkEstimator(fn.initialWatermark());
        fn.process(read, tracker, watermark, out);
        assertTrue(IntervalCommitter.commit(t, List.copyOf(batches), false, NOW, Map.of()).committed());

        clock.advance(Duration.ofHours(-1));
        source.upsert("products", Map.of("product_id", "prod_9999", "name", "new"));
        batches.clear();
        tracker = fn.newTracker(tracker.trySplit(0).getResidual()); // the runner's resume after the interval
        fn.process(read, tracker, watermark, out);
        assertTrue(IntervalCommitter.commit(t, List.copyOf(batches), false, NOW, Map.of()).committed(),
            "the second snapshot committed");
      } finally {
        fn.teardown();
      }
      assertEquals(53 + 1, CrashCheck.read(t.target().load()).size(), "the product added");
    }
  }

  private ContinuousTable productsTable() {
    return productsTable(feedSchema);
  }

  private ContinuousTable productsTable(Schema feedSchema) {
    CatalogConfig catalog = CatalogConfig.hadoop(dir.toString());
    Destination d = new Destination("main", "example", "products");
    MergeRule rule = new MergeRule(ScdType.SCD_TYPE_1, List.of("product_id"), null, true);
    Warehouse warehouse = new Warehouse(catalog);
    warehouse.create(d, TableSchemas.toIceberg(rule.tableSchema(feedSchema), rule.identifierColumns()), Map.of());
    warehouse.create(d.changeFeed(), TableSchemas.toIceberg(feedSchema, List.of()), Map.of());
    return new ContinuousTable(new TableTarget(catalog, d), rule, feedSchema.toString(), null, Map.of(), true, "run-1",
        Map.of());
  }

  private static FeedBatch snapshot(int atSeconds, GenericRecord... rows) {
    return new FeedBatch(FeedBatch.SNAPSHOT, T0 + atSeconds * SECOND, T0 + atSeconds * SECOND, List.of(rows));
  }

  private static GenericRecord product(String id, String name) {
    ObjectNode record = JSON.createObjectNode().put("product_id", id).put("name", name);
    return SourceRows.toRow(feedSchema, products, record, new RunStamp("run-1", T0), "snapshot");
  }
}
