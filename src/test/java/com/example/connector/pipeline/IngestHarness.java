package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/**
 * Runs the real pipeline main in-process against a source URL, with a spec and connection
 * written to a temporary directory, and reads the Parquet output back with parquet-avro.
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
    return outcome;
  }

  IngestMain.Outcome runOk(Path spec, String... extraArgs) {
    IngestMain.Outcome outcome = run(spec, extraArgs);
    assertEquals(0, outcome.exitCode(), () -> "run failed:\n" + lastOut + "\n" + lastErr);
    return outcome;
  }

  Path tableDir(String table) {
    return output.resolve("main").resolve("example").resolve(table);
  }

  /** Every row of a destination table, read from its Parquet files. */
  List<GenericRecord> rows(String table) {
    return read(tableDir(table));
  }

  /** Every row of a table's change feed (an append table's is the table itself). */
  List<GenericRecord> changes(String table) {
    Path feed = tableDir(table).resolve("_changes");
    return read(Files.isDirectory(feed) ? feed : tableDir(table));
  }

  private static List<GenericRecord> read(Path dir) {
    List<GenericRecord> rows = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return rows;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".parquet")).sorted().toList()) {
        try (ParquetReader<GenericRecord> reader =
            AvroParquetReader.<GenericRecord>builder(
                    HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()))
                .build()) {
          for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
            rows.add(r);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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
