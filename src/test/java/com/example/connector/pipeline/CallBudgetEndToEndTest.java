package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run against a rate-limited source: every record lands, and the summary reports the throttled
 * calls and a peak of calls in flight within the connection's {@code max_concurrent_requests}.
 */
class CallBudgetEndToEndTest {
  @TempDir Path dir;

  @Test
  void aRateLimitedRunLandsEveryRecordAndReportsThrottlingAndThePeakInFlight() {
    // 2 calls a second (burst 2): the run's discovery and reads exceed it, and each 429 holds the
    // connection for the Retry-After (1 s) in real time, so the run takes a few seconds.
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).rateLimit(2).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      h.write("connections/test_connection.json",
          "{\"username\": \"u\", \"password\": \"s3cret-pw\", \"base_url\": \"" + source.baseUrl() + "\","
              + " \"max_concurrent_requests\": 2,"
              + " \"externalOptionsAllowList\": \"max_records_per_batch\"}");
      Path spec = h.spec("limited.json",
          "\"source_table\": \"users\", \"table_configuration\": {\"max_records_per_batch\": \"15\"}",
          "\"source_table\": \"products\"");

      IngestMain.Outcome outcome = h.runOk(spec, "--retryMaxAttempts=30");

      Map<String, Integer> seeded = Map.of("users", 37, "products", 53);
      seeded.forEach((table, n) -> assertEquals(n, h.rows(table).size(), table));
      Map<String, Long> users = outcome.counters().get("main.example.users");
      Map<String, Long> products = outcome.counters().get("main.example.products");
      long throttled = users.getOrDefault("throttled", 0L) + products.getOrDefault("throttled", 0L);
      assertTrue(throttled > 0, outcome.counters().toString());
      for (Map<String, Long> table : Set.of(users, products)) {
        long peak = table.get("peak_in_flight");
        assertTrue(peak >= 1 && peak <= 2, "peak in flight " + peak + " within max_concurrent_requests 2");
      }
      String header = h.lastOut.lines().filter(l -> l.startsWith("table ")).findFirst().orElseThrow();
      assertTrue(header.contains(" throttled ") && header.contains(" peak calls "), header);
    }
  }
}
