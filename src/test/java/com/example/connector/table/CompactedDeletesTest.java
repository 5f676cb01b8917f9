package com.example.connector.table;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.example.testing.IcebergFiles;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.LogicalTypes;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's deletes moved onto compacted files ({@link CompactedDeletes}, through {@link
 * TableCommitter}) on real Iceberg tables: rows of every column type the connector writes (a
 * timestamptz, a date, NaN and -0.0 doubles, a struct holding a timestamp, nulls, two identical
 * rows of which the run deletes one), compacted by maintenance and then rewritten by another engine
 * in reverse order, in tables their owner partitioned, and after a column was added.
 */
class CompactedDeletesTest {
  private static final Schema TS = LogicalTypes.timestampMicros().addToSchema(Schema.create(Schema.Type.LONG));
  private static final Schema DATE = LogicalTypes.date().addToSchema(Schema.create(Schema.Type.INT));
  private static final Schema INNER = SchemaBuilder.record("inner").fields()
      .name("a").type().optional().longType()
      .name("t").type().unionOf().nullType().and().type(TS).endUnion().nullDefault()
      .endRecord();
  private static final Schema ROW = SchemaBuilder.record("row").fields()
      .name("id").type().stringType().noDefault()
      .name("region").type().optional().stringType()
      .name("ts").type().unionOf().nullType().and().type(TS).endUnion().nullDefault()
      .name("d").type().unionOf().nullType().and().type(DATE).endUnion().nullDefault()
      .name("x").type().optional().doubleType()
      .name("s").type().unionOf().nullType().and().type(INNER).endUnion().nullDefault()
      .endRecord();

  @TempDir Path dir;

  private static GenericRecord row(String id, String region, Long ts, Integer d, Double x, Long a) {
    GenericRecord r = new GenericData.Record(ROW);
    r.put("id", id);
    r.put("region", region);
    r.put("ts", ts);
    r.put("d", d);
    r.put("x", x);
    if (a != null) {
      GenericRecord in = new GenericData.Record(INNER);
      in.put("a", a);
      in.put("t", ts);
      r.put("s", in);
    }
    return r;
  }

  /**
   * The run deletes every row of the first commit's file but "e" (and one of its two identical
   * "c"s) and adds "mine"; then, before it commits, the table is compacted ({@code rewrites} times:
   * maintenance, then another engine's rewrite of a file with its rows reversed). Every delete lands.
   */
  @ParameterizedTest(name = "partitioned by {0}, column added {1}, {2} rewrites")
  @CsvSource({"none, false, 1", "region, false, 1", "day and bucket, true, 1", "none, false, 2", "none, true, 3"})
  void everyDeleteOfTheRunLandsOnTheRewrittenRows(String partitioning, boolean addColumn, int rewrites) {
    CatalogConfig config = CatalogConfig.hadoop(dir.toString());
    Destination users = new Destination("main", "example", "users");
    Table table = new Warehouse(config).create(users, TableSchemas.toIceberg(ROW, List.of("id")), Map.of());
    if (partitioning.equals("region")) {
      table.updateSpec().addField("region").commit();
    } else if (partitioning.equals("day and bucket")) {
      table.updateSpec().addField(Expressions.day("ts")).addField(Expressions.bucket("id", 3)).commit();
    }
    List<WrittenFile> first = commit(table, users, "run-0", List.of(
        row("a", "eu", 1_700_000_000_123_456L, 19000, Double.NaN, 1L),
        row("b", "us", null, null, null, null),
        row("c", "eu", 1_700_000_000_000_001L, 19001, -0.0, 2L),
        row("c", "eu", 1_700_000_000_000_001L, 19001, -0.0, 2L),
        row("e", null, 5L, 1, 1.5, null)));
    commit(table, users, "run-00", List.of(row("f", "eu", 7L, 2, 2.0, 3L), row("c", "eu", 1_700_000_000_000_001L, 19001, -0.0, 2L)));
    table.refresh();
    long base = table.currentSnapshot().snapshotId();
    List<FileScanTask> planned = Warehouse.files(table, base);
    Set<String> firstFiles = new HashSet<>();
    first.forEach(f -> firstFiles.add(f.dataFile().path().toString()));
    List<RowPosition> positions = new ArrayList<>();
    for (FileScanTask task : planned) {
      String path = task.file().path().toString();
      if (!firstFiles.contains(path)) {
        continue;
      }
      boolean cSeen = false;
      for (Record r : live(table, task, new org.apache.iceberg.Schema(List.of(table.schema().findField("id"), MetadataColumns.ROW_POSITION)))) {
        String id = r.get(0).toString();
        if (!id.equals("e") && !(id.equals("c") && cSeen)) {
          cSeen |= id.equals("c");
          positions.add(new RowPosition(path, (Long) r.get(1)));
        }
      }
    }
    positions.sort(null);
    List<WrittenFile> files = new ArrayList<>(TableFiles.writeData(table, users.key(), "run-1", ROW, List.of("id"),
        List.of(row("mine", "eu", 9L, 3, 3.0, 4L))));
    files.addAll(TableFiles.writeDeletes(table, users.key(), "run-1", positions, DataFilePartitions.of(planned)));
    if (addColumn) {
      config.load().loadTable(users.identifier()).updateSchema().addColumn("extra", Types.StringType.get()).commit();
    }
    for (int i = 0; i < rewrites; i++) {
      Table compactor = config.load().loadTable(users.identifier());
      if (i == 0) {
        Maintenance.maintain(compactor, Maintenance.Settings.defaults(), Clock.systemUTC());
      } else {
        FileScanTask one = Warehouse.files(compactor, compactor.currentSnapshot().snapshotId()).get(0);
        List<Record> reversed = live(compactor, one, compactor.schema());
        Collections.reverse(reversed);
        compactor.newRewrite().rewriteFiles(Set.of(one.file()), Set.of(IcebergFiles.dataFile(compactor, reversed))).commit();
      }
    }

    TableCommit commit = new TableCommit(new TableTarget(config, users), table.uuid().toString(), base,
        Map.of("records", "2024-03-01T00:00:00Z"));
    new TableCommitter(config).commit(new RunCommit("run-1", "2024-03-01T00:00:00Z", List.of(commit)), files);

    List<String> ids = new ArrayList<>();
    IcebergFiles.rows(config.load().loadTable(users.identifier())).forEach(r -> ids.add(r.getField("id").toString()));
    ids.sort(null);
    assertEquals(List.of("c", "c", "e", "f", "mine"), ids);
  }

  private static List<WrittenFile> commit(Table table, Destination d, String runId, List<GenericRecord> rows) {
    List<WrittenFile> written = TableFiles.writeData(table, d.key(), runId, ROW, List.of("id"), rows);
    var append = table.newAppend();
    written.forEach(f -> append.appendFile(f.dataFile()));
    append.set("example.run-id", runId).commit();
    return written;
  }

  private static List<Record> live(Table table, FileScanTask task, org.apache.iceberg.Schema projection) {
    List<Record> rows = new ArrayList<>();
    try (CloseableIterable<Record> it = LiveRows.read(new CommittedRead(table), task, projection, r -> true)) {
      it.forEach(r -> rows.add(r.copy()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }
}
