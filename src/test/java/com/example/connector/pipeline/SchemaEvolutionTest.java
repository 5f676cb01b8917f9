package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.Timestamps;
import com.example.connector.table.CatalogConfig;
import com.example.connector.table.Destination;
import com.example.connector.table.SnapshotSummary;
import com.example.connector.table.Warehouse;
import com.example.source.ExampleSource;
import com.example.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A destination table whose schema is not the source's: a column the table lacks is added and
 * filled; a column of another type fails the run before anything is written. And one whose
 * partition spec a user evolved.
 */
class SchemaEvolutionTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Destination USERS = new Destination("main", "example", "users");
  /** What a run of this connector keeps in the users table's properties (see IngestPlanner.properties). */
  private static final Map<String, String> USERS_PROPERTIES = Map.of(
      "example.source-table", "users",
      "example.merge", "{\"scd_type\":\"SCD_TYPE_1\",\"primary_keys\":[\"user_id\"],\"sequence_by\":\"updated_at\",\"snapshot\":false}");

  @TempDir Path dir;

  @Test
  void aSourceColumnTheTableLacksIsAddedAndFilled() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(TestClock.system()).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Schema withoutDisplayName = new Schema(List.of(
          Types.NestedField.required(1, "user_id", Types.StringType.get()),
          Types.NestedField.optional(2, "email", Types.StringType.get()),
          Types.NestedField.optional(3, "status", Types.StringType.get()),
          Types.NestedField.optional(4, "updated_at", Types.TimestampType.withZone())), Set.of(1));
      new Warehouse(CatalogConfig.hadoop(h.output.toString())).create(USERS, withoutDisplayName, USERS_PROPERTIES);

      h.runOk(h.spec("users.json", "\"source_table\": \"users\""));

      Types.NestedField added = h.table("users").schema().findField("display_name");
      assertNotNull(added, h.table("users").schema().toString());
      assertTrue(added.isOptional());
      assertEquals(Types.StringType.get(), added.type());
      Map<String, String> expected = new TreeMap<>();
      for (JsonNode u : ScdTablesTest.currentRows(source, "users")) {
        expected.put(u.get("user_id").asText(), text(u.get("email")) + "|" + text(u.get("display_name")) + "|"
            + text(u.get("status")) + "|" + Timestamps.toMicros(Timestamps.parse(u.get("updated_at").asText())));
      }
      assertTrue(expected.values().stream().anyMatch(v -> !v.split("\\|")[1].equals("null")), "some display names");
      Map<String, String> actual = new TreeMap<>();
      for (GenericRecord r : h.rows("users")) {
        actual.put(r.get("user_id").toString(), r.get("email") + "|" + r.get("display_name") + "|" + r.get("status")
            + "|" + r.get("updated_at"));
      }
      assertEquals(expected, actual);
    }
  }

  /**
   * A column the source adds while a run reads: here between the run's schema call and its cap (its
   * clock), so the record written with it is one the run reads. The run stops, naming the table and
   * the column, and commits nothing; the next run adds the column and reads that record again, with
   * its value. (It used to leave the value out and commit its cursor past the record: lost.)
   */
  @Test
  void aColumnTheSourceAddsDuringARunStopsItAndTheNextRunReadsItsValues() throws Exception {
    TestClock clock = TestClock.frozenAt(Instant.now().truncatedTo(ChronoUnit.SECONDS));
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("users.json", "\"source_table\": \"users\"");
      h.runOk(spec);
      Map<String, String> cursors = h.cursors("users");
      long snapshot = h.table("users").currentSnapshot().snapshotId();

      clock.advance(Duration.ofSeconds(2));
      AtomicBoolean added = new AtomicBoolean();
      AtomicBoolean capped = new AtomicBoolean();
      source.setRequestListener((method, path, query) -> {
        if (path.equals("/tables/users/metadata") && added.compareAndSet(false, true)) { // its schema was just read
          source.addColumn("users", "tier", "string");
          source.upsert("users", Map.of("user_id", "user_0005", "tier", "gold"));
        } else if (path.equals("/tables") && added.get() && capped.compareAndSet(false, true)) {
          clock.advance(Duration.ofSeconds(2)); // the cap: past that write
        }
      });
      IngestMain.Outcome outcome = h.run(spec);

      assertEquals(1, outcome.exitCode(), h.lastOut + h.lastErr);
      assertTrue(h.lastErr.contains("the source added column 'tier' to table users after this run was planned"),
          h.lastErr);
      assertTrue(h.lastErr.contains("nothing was committed"), h.lastErr);
      assertEquals(snapshot, h.table("users").currentSnapshot().snapshotId(), "no new snapshot");
      assertEquals(cursors, h.cursors("users"), "the cursor where it was");

      source.setRequestListener(null);
      clock.advance(Duration.ofSeconds(2));
      h.runOk(spec);
      Map<String, String> tiers = new TreeMap<>();
      h.rows("users").forEach(r -> tiers.put(r.get("user_id").toString(), String.valueOf(r.get("tier"))));
      assertEquals(37, tiers.size(), "every user once");
      assertEquals("gold", tiers.get("user_0005"), "the value written with the new column");
      assertEquals(Set.of("null"), tiers.entrySet().stream().filter(e -> !e.getKey().equals("user_0005"))
          .map(Map.Entry::getValue).collect(Collectors.toSet()), "the other users have none");
    }
  }

  /**
   * The hidden metrics has no schema route; the connector knows its columns. A field its records
   * carry beyond them is left out, without asking, and the run lands every metric.
   */
  @Test
  void aFieldBeyondTheHiddenMetricsColumnsIsLeftOut() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      source.addColumn("metrics", "region", "string");
      source.upsert("metrics", Map.of("metric_id", "metric_0002", "region", "eu"));
      clock.advance(Duration.ofSeconds(2)); // past the second the run caps at
      AtomicInteger schemaCalls = new AtomicInteger();
      source.setRequestListener((method, path, query) -> {
        if (path.equals("/tables/metrics/schema")) {
          schemaCalls.incrementAndGet();
        }
      });
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      h.runOk(h.spec("metrics.json", "\"source_table\": \"metrics\""));

      assertEquals(253, h.rows("metrics").size());
      assertNull(h.table("metrics").schema().findField("region"));
      assertEquals(0, schemaCalls.get());
    }
  }

  /**
   * The users table has email as a long: the run exits 2 naming the table, the column and both
   * types, before it creates, evolves or commits any table of the spec.
   */
  @Test
  void aColumnOfAnotherTypeFailsTheRunBeforeAnyTableChanges() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(TestClock.system()).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Schema emailAsLong = new Schema(List.of(
          Types.NestedField.required(1, "user_id", Types.StringType.get()),
          Types.NestedField.optional(2, "email", Types.LongType.get()),
          Types.NestedField.optional(3, "updated_at", Types.TimestampType.withZone())), Set.of(1));
      Table users = new Warehouse(CatalogConfig.hadoop(h.output.toString())).create(USERS, emailAsLong, USERS_PROPERTIES);
      // As an earlier run of the connector committed it.
      users.newAppend().appendFile(oneRow(users)).set(SnapshotSummary.RUN_ID, "an-earlier-run").commit();
      long before = h.table("users").currentSnapshot().snapshotId();

      IngestMain.Outcome outcome = h.run(h.spec("both.json", "\"source_table\": \"events\"", "\"source_table\": \"users\""));

      assertEquals(2, outcome.exitCode(), h.lastOut + h.lastErr);
      assertTrue(h.lastErr.contains("table main.example.users: column 'email' is long in the table but the source"
          + " now sends string"), h.lastErr);
      Table after = h.table("users");
      assertEquals(before, after.currentSnapshot().snapshotId(), "no new snapshot");
      assertEquals(1, h.rows("users").size());
      assertEquals(emailAsLong.asStruct(), after.schema().asStruct(), "no column added");
      assertNull(h.table("users__changes"), "the change feed not created");
      assertNull(h.table("events"), "the other table of the spec not created");
    }
  }

  /**
   * A table the connector created, then partitioned by a user (Iceberg's partition evolution):
   * the next runs write their files in the table's new spec, each in the partition of its rows
   * (the day they were created), beside the files before (unpartitioned, which Iceberg keeps
   * valid); the table holds every event once. Maintenance compacts the new spec's files partition
   * by partition and leaves the earlier spec's as they are.
   */
  @Test
  void aTablePartitionedSinceGetsItsNewFilesInTheirPartitionsAndCompactsThem() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("events.json", "\"source_table\": \"events\"");
      h.runOk(spec);
      Set<String> firstSpecFiles = dataFiles(h.table("events"), 0);
      h.table("events").updateSpec().addField(Expressions.day("created_at")).commit();
      long partitionedAt = h.table("events").currentSnapshot().snapshotId();
      for (String id : List.of("e1", "e2")) {
        source.upsert("events", Map.of("event_id", "00000000-0000-4000-8000-0000000000" + id, "event_type", "click"));
        clock.advance(Duration.ofSeconds(2)); // past the second the next run caps at
        h.runOk(spec);
      }

      Table events = h.table("events");
      assertEquals(1, events.spec().specId(), "the user's spec stays the table's");
      assertEquals(firstSpecFiles, dataFiles(events, 0), "the first spec's files as they were");
      assertEquals(newEventDays(source), partitions(events, 1), "each run's file in its events' partition (after "
          + partitionedAt + ")");
      assertEquals(2, dataFiles(events, 1).size(), "two new files");
      assertTableIsTheSource(source, h, "events", "every event once");

      maintain(h, spec);
      events = h.table("events");
      assertEquals(firstSpecFiles, dataFiles(events, 0), "the first spec's files left as they were");
      assertEquals(newEventDays(source).size(), dataFiles(events, 1).size(), "one file per partition");
      assertTableIsTheSource(source, h, "events", "every event once, compacted");
    }
  }

  /** The destination table holds the source table's rows, each once. */
  private static void assertTableIsTheSource(ExampleSource source, IngestHarness h, String table, String message)
      throws Exception {
    assertEquals(ScdTablesTest.rendered(ScdTablesTest.currentRows(source, table)),
        ScdTablesTest.renderedTable(h.rows(table)), message);
  }

  /** Maintains the spec's tables, which must succeed. */
  private static void maintain(IngestHarness h, Path spec) {
    assertEquals(0, MaintainMain.run(new String[] {"--spec=" + spec, "--outputRoot=" + h.output},
        new PrintStream(new ByteArrayOutputStream(), true), System.err, Clock.systemUTC()));
  }

  /** The partitions of the new events by the day they were created on, as the source answers (epoch days). */
  private static Set<String> newEventDays(ExampleSource source) throws Exception {
    Set<String> days = new TreeSet<>();
    for (JsonNode event : ScdTablesTest.currentRows(source, "events")) {
      if (event.get("event_id").asText().startsWith("00000000-0000-4000-8000-0000000000e")) {
        days.add("1 " + java.time.Instant.parse(event.get("created_at").asText()).getEpochSecond() / 86_400);
      }
    }
    return days;
  }

  /** The partitions of the table's live data files of a spec, each {@link #described}. */
  private static Set<String> partitions(Table table, int specId) {
    return liveFiles(table, specId).stream().map(SchemaEvolutionTest::described)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** The paths of the table's live data files of a spec. */
  private static Set<String> dataFiles(Table table, int specId) {
    return liveFiles(table, specId).stream().map(f -> f.path().toString())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static List<DataFile> liveFiles(Table table, int specId) {
    return Warehouse.files(table, table.currentSnapshot().snapshotId()).stream()
        .filter(t -> t.spec().specId() == specId).map(FileScanTask::file).toList();
  }

  /**
   * An SCD type 1 table partitioned by its owner (by status) after the connector created it: a
   * user whose status changes is deleted where its row was and inserted into its new partition.
   * Each position delete file is in the partition of the data files it names: readers look
   * deletes up by a data file's spec and partition, so one in another partition would leave the
   * old row in place.
   */
  @Test
  void aTablePartitionedSinceDeletesAndInsertsInThePartitionsOfItsRows() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("users.json", "\"source_table\": \"users\"");
      h.runOk(spec);
      h.table("users").updateSpec().addField("status").commit();

      // Out of the first, unpartitioned files into two partitions.
      source.upsert("users", Map.of("user_id", "user_0001", "status", "suspended"));
      source.upsert("users", Map.of("user_id", "user_0002", "status", "suspended"));
      source.upsert("users", Map.of("user_id", "user_0003", "status", "closed"));
      clock.advance(Duration.ofSeconds(2)); // past the second the next run caps at
      h.runOk(spec);
      assertTableIsTheSource(source, h, "users", "every user once, as the source holds it");
      assertEquals(Set.of("1 suspended", "1 closed"), addedFiles(h.table("users"), true), "inserts by status");
      assertEquals(Set.of("0 "), addedFiles(h.table("users"), false), "deletes of rows in unpartitioned files");

      // Out of those two partitions, back into a third.
      source.upsert("users", Map.of("user_id", "user_0001", "status", "active"));
      source.upsert("users", Map.of("user_id", "user_0003", "status", "active"));
      clock.advance(Duration.ofSeconds(2));
      h.runOk(spec);
      assertTableIsTheSource(source, h, "users", "every user once, as the source holds it");
      assertEquals(Set.of("1 active"), addedFiles(h.table("users"), true), "inserts by status");
      assertEquals(Set.of("1 suspended", "1 closed"), addedFiles(h.table("users"), false),
          "a delete file in the partition of each data file it names");

      // Compacted: the new spec's partitions rewritten without their deleted rows, the first spec's files kept.
      Set<String> firstSpecFiles = dataFiles(h.table("users"), 0);
      maintain(h, spec);
      Table users = h.table("users");
      assertEquals(firstSpecFiles, dataFiles(users, 0));
      assertEquals(Set.of("1 active", "1 suspended"), addedFiles(users, true), "a file per partition with rows");
      Set<Integer> deleteSpecs = new TreeSet<>();
      Warehouse.files(users, users.currentSnapshot().snapshotId())
          .forEach(t -> t.deletes().forEach(d -> deleteSpecs.add(d.specId())));
      assertEquals(Set.of(0), deleteSpecs, "only the first spec's deletes remain");
      assertTableIsTheSource(source, h, "users", "every user once, compacted");
    }
  }

  /** The data (or delete) files the table's last commit added, each {@link #described}. */
  private static Set<String> addedFiles(Table table, boolean data) {
    Set<String> files = new TreeSet<>();
    (data ? table.currentSnapshot().addedDataFiles(table.io()) : table.currentSnapshot().addedDeleteFiles(table.io()))
        .forEach(f -> files.add(described(f)));
    return files;
  }

  /** A file as its spec id and partition values: "1 suspended", "0 " (unpartitioned). */
  private static String described(ContentFile<?> file) {
    List<String> values = new ArrayList<>();
    for (int i = 0; i < file.partition().size(); i++) {
      values.add(String.valueOf(file.partition().get(i, Object.class)));
    }
    return file.specId() + " " + String.join(",", values);
  }

  /** A data file of the table holding one user, written with Iceberg's own writer. */
  private static DataFile oneRow(Table table) throws IOException {
    DataWriter<Record> writer = new GenericAppenderFactory(table.schema()).newDataWriter(
        table.encryption().encrypt(table.io().newOutputFile(table.locationProvider().newDataLocation(UUID.randomUUID()
            + ".parquet"))), FileFormat.PARQUET, null);
    try (writer) {
      Record row = org.apache.iceberg.data.GenericRecord.create(table.schema());
      row.setField("user_id", "user_0001");
      row.setField("email", 42L);
      writer.write(row);
    }
    return writer.toDataFile();
  }

  private static String text(JsonNode v) {
    return v == null || v.isNull() ? "null" : v.asText();
  }
}
