package com.example.bench;

import com.example.source.ExampleSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The spec and connection a benchmark or a crash trial runs the real main with, against its
 * in-process source.
 */
public final class BenchmarkSpec {
  private BenchmarkSpec() {}

  /**
   * Writes {@code dir/bench.json} and its connection {@code dir/connections/bench.json}.
   *
   * @param maxConcurrentRequests the connection's {@code max_concurrent_requests}
   * @param tables each entry's {@code table} object's contents, e.g. {@code "source_table": "users"}
   */
  public static Path write(Path dir, ExampleSource source, long maxConcurrentRequests, List<String> tables)
      throws IOException {
    Files.createDirectories(dir.resolve("connections"));
    Files.writeString(dir.resolve("connections/bench.json"),
        "{\"username\": \"bench\", \"password\": \"bench\", \"base_url\": \"" + source.baseUrl()
            + "\", \"max_concurrent_requests\": " + maxConcurrentRequests + "}");
    StringBuilder objects = new StringBuilder();
    for (String table : tables) {
      objects.append(objects.length() == 0 ? "" : ", ").append("{\"table\": {").append(table).append("}}");
    }
    Path spec = dir.resolve("bench.json");
    Files.writeString(spec, "{\"pipeline_spec\": {\"connection_name\": \"bench\", \"object\": [" + objects + "]}}");
    return spec;
  }

  /** An entry of a table with the documented defaults: no table options. */
  public static String table(String sourceTable) {
    return "\"source_table\": \"" + sourceTable + "\"";
  }
}
