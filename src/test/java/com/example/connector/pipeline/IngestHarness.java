package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.example.connector.table.CatalogConfig;
import com.example.connector.table.Destination;
import com.example.connector.table.SnapshotSummary;
import com.example.connector.table.TableSchemas;
import com.example.testing.IcebergFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;
import org.apache.iceberg.Table;
import org.apache.iceberg.avro.AvroSchemaUtil;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;

/**
 * Runs the real pipeline main in-process against a source URL, with a spec and connection
 * written to a temporary directory, and reads the Iceberg tables back with Iceberg's own generic
 * reader (deletes applied).
 */
final class IngestHarness {
  final Path dir;
  final Path output;
  final String baseUrl;
  String lastOut = "";
  String lastErr = "";

  IngestHarness(Path dir, String baseUrl) {
    this.dir = dir;
    this.output = dir.resolve("output");
    this.baseUrl = baseUrl;
    write(
        "connections/test_connection.json",
        "{\"username\": \"u\", \"password\": \"s3cret-pw\", \"base_url\": \"" + baseUrl + "\","
            + " \"externalOptionsAllowList\": \"max_records_per_batch,limit,window_seconds,category,user_id,status,start_timestamp\"}");
  }

  /** Writes a spec with the given {@code table} entries (JSON objects' contents). */
  Path spec(String name, String... tables) {
    StringBuilder b = new StringBuilder("{\"pipeline_spec\": {\"connection_name\": \"test_connection\", \"object\": [");
    for (int i = 0; i < tables.length; i++) {
      b.append(i == 0 ? "" : ",").append("{\"table\": {").append(tables[i]).append("}}");
    }
    return write(name, b.append("]}}").toString());
  }

  Path write(String name, String content) {
    try {
      Path file = dir.resolve(name);
      Files.createDirectories(file.getParent());
      Files.writeString(file, content);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  IngestMain.Outcome run(Path spec, String... extraArgs) {
    List<String> args = new ArrayList<>(List.of("--spec=" + spec));
    // Each default unless the test gives the option itself.
    for (String option : List.of("--runner=DirectRunner", "--outputRoot=" + output,
        "--retryInitialBackoffMillis=1", "--progressIntervalSeconds=0")) {
      String name = option.substring(0, option.indexOf('=') + 1);
      if (Arrays.stream(extraArgs).noneMatch(a -> a.startsWith(name))) {
        args.add(option);
      }
    }
    args.addAll(List.of(extraArgs));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    IngestMain.Outcome outcome =
        IngestMain.run(args.toArray(String[]::new), new PrintStream(out, true), new PrintStream(err, true));
    lastOut = out.toString(StandardCharsets.UTF_8);
    lastErr = err.toString(StandardCharsets.UTF_8);
    awaitDirectRunnerWorkers();
    return outcome;
  }

  /**
   * Waits for the DirectRunner's worker threads to end. A failed run returns as soon as one step
   * fails, while the runner, shut down but not interrupted, lets steps already running finish:
   * their files could land in the directory JUnit is deleting, or under the next run.
   */
  private static void awaitDirectRunnerWorkers() {
    for (Thread t : directRunnerWorkers()) {
      try {
        t.join(Duration.ofMinutes(1).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** The DirectRunner's worker threads alive in this JVM, of every pipeline. */
  static Set<Thread> directRunnerWorkers() {
    Set<Thread> workers = new HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("direct-runner-worker")) {
        workers.add(t);
      }
    }
    return workers;
  }

  IngestMain.Outcome runOk(Path spec, String... extraArgs) {
    IngestMain.Outcome outcome = run(spec, extraArgs);
    assertEquals(0, outcome.exitCode(), () -> "run failed:\n" + lastOut + "\n" + lastErr);
    return outcome;
  }

  Path tableDir(String table) {
    return output.resolve("main").resolve("example").resolve(table);
  }

  /** The Iceberg table main.example.TABLE in the Hadoop catalog at the output root, or null. */
  Table table(String table) {
    Catalog catalog = CatalogConfig.hadoop(output.toString()).load();
    TableIdentifier id = TableIdentifier.of("main", "example", table);
    return catalog.tableExists(id) ? catalog.loadTable(id) : null;
  }

  /** The table's current snapshot's cursors by feed, as committed (ISO-8601). */
  Map<String, String> cursors(String table) {
    return SnapshotSummary.cursors(table(table).currentSnapshot());
  }

  /** Every row of a destination table's current snapshot, read with Iceberg's generic reader. */
  List<GenericRecord> rows(String table) {
    return read(table(table));
  }

  /** Every row of a table's change feed (an append table's is the table itself). */
  List<GenericRecord> changes(String table) {
    Table feed = table(table + Destination.CHANGE_FEED_SUFFIX);
    return read(feed != null ? feed : table(table));
  }

  /** The table's rows as Avro records (timestamps in microseconds, as the pipeline's rows). */
  static List<GenericRecord> read(Table table) {
    List<GenericRecord> rows = new ArrayList<>();
    if (table == null) {
      return rows;
    }
    table.refresh();
    org.apache.avro.Schema schema = AvroSchemaUtil.convert(table.schema(), "row");
    for (Record r : IcebergFiles.rows(table)) {
      rows.add(TableSchemas.toAvro(r, schema));
    }
    return rows;
  }

  /** The values of one column in a table's change feed, of one run (all runs when runId is null). */
  List<String> column(String table, String column, String runId) {
    return changes(table).stream()
        .filter(r -> runId == null || runId.equals(String.valueOf(r.get("_run_id"))))
        .map(r -> String.valueOf(r.get(column)))
        .toList();
  }
}
