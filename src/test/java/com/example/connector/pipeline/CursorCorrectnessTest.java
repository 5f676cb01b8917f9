package com.example.connector.pipeline;

import static com.example.connector.pipeline.IngestEndToEndTest.duplicated;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.Timestamps;
import com.example.source.ExampleSource;
import com.example.testing.TestClock;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The cursor cases where connectors lose or repeat records, each against the simulated source:
 * ties at page, batch and run boundaries; records updated while a read pages; records written
 * as a run starts with the two clocks apart; injected faults.
 */
class CursorCorrectnessTest {
  @TempDir Path dir;

  static Set<String> users(int n) {
    return IntStream.range(0, n).mapToObj(i -> String.format("user_%04d", i)).collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void tiesAcrossPagesBatchesAndWindowsAreReadExactlyOnce() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).ties(7)
        .pageSize("users", 5).pageSize("orders", 4).pageSize("metrics", 6).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("ties.json",
          "\"source_table\": \"users\", \"table_configuration\": {\"max_records_per_batch\": \"3\"}",
          "\"source_table\": \"events\", \"table_configuration\": {\"max_records_per_batch\": \"3\", \"limit\": \"4\"}",
          "\"source_table\": \"orders\", \"table_configuration\": {\"max_records_per_batch\": \"3\"}",
          "\"source_table\": \"metrics\", \"table_configuration\": {\"max_records_per_batch\": \"3\", \"window_seconds\": \"600\"}");
      h.runOk(spec);
      Map<String, Integer> seeded = Map.of("events", 101, "users", 37, "orders", 103, "metrics", 253);
      seeded.forEach((table, n) -> {
        List<String> keys = h.column(table, IngestEndToEndTest.key(table), null);
        assertEquals(Set.of(), duplicated(keys), table + " duplicates");
        assertEquals(n, keys.size(), table);
      });
    }
  }

  @Test
  void recordsUpdatedWhilePagingAreNeitherLostNorRepeated() {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).pageSize("users", 5).clock(clock).start()) {
      AtomicInteger userPages = new AtomicInteger();
      source.setRequestListener((method, path, query) -> {
        // The third read of the first sub-range (users 0-19 of 8 pages: reads carry no page
        // number, unlike the split's probes; the other sub-range's start after user 19).
        if (path.equals("/tables/users/records") && query != null && !query.contains("page=")
            && sinceOf(query).isBefore(Instant.parse("2024-01-01T00:19:00Z")) && userPages.incrementAndGet() == 3) {
          // Two records behind the reader move to the end (the pages shift back), one ahead of it.
          source.upsert("users", Map.of("user_id", "user_0001", "email", "a@x"));
          source.upsert("users", Map.of("user_id", "user_0002", "email", "b@x"));
          source.upsert("users", Map.of("user_id", "user_0015", "email", "c@x"));
        }
      });
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("users.json", "\"source_table\": \"users\"");
      String run1 = h.runOk(spec).plan().runId();
      clock.advance(Duration.ofSeconds(2));
      String run2 = h.runOk(spec).plan().runId();

      List<String> first = h.column("users", "user_id", run1);
      Set<String> expected = users(37);
      expected.remove("user_0015"); // its old version left before the reader got there
      assertEquals(Set.of(), duplicated(first));
      assertEquals(expected, new TreeSet<>(first));
      assertEquals(Set.of("user_0001", "user_0002", "user_0015"), new TreeSet<>(h.column("users", "user_id", run2)));
      assertEquals(3, h.column("users", "user_id", run2).size());
    }
  }

  /** The {@code since} of a records request's raw query. */
  private static Instant sinceOf(String query) {
    String since = Arrays.stream(query.split("&")).filter(p -> p.startsWith("since=")).findFirst().orElseThrow();
    return Timestamps.parse(URLDecoder.decode(since.substring("since=".length()), StandardCharsets.UTF_8));
  }

  @Test
  void anUpdateInsideATieGroupLargerThanAPageTriggersARescanNotALoss() {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).ties(20).pageSize("users", 5).clock(clock).start()) {
      AtomicInteger userPages = new AtomicInteger();
      // The first group's own third page (since just below the seed's base time, 2024-01-01): the
      // feed's other sub-range is read side by side and asks for page 3 of its own group.
      source.setRequestListener((method, path, query) -> {
        if (path.equals("/tables/users/records") && query != null && query.matches("(.*&)?page=3(&.*)?") // not a probe's page=32
            && query.contains("since=2023-12-31") && userPages.incrementAndGet() == 1) {
          source.upsert("users", Map.of("user_id", "user_0002", "email", "moved@x"));
        }
      });
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("users.json", "\"source_table\": \"users\", \"table_configuration\": {\"max_records_per_batch\": \"4\"}");
      String run1 = h.runOk(spec).plan().runId();
      clock.advance(Duration.ofSeconds(2));
      String run2 = h.runOk(spec).plan().runId();

      List<String> first = h.column("users", "user_id", run1);
      assertEquals(Set.of(), duplicated(first));
      assertEquals(users(37), new TreeSet<>(first));
      assertEquals(List.of("user_0002"), h.column("users", "user_id", run2));
    }
  }

  @ParameterizedTest(name = "source clock {0} s from the pipeline's")
  @ValueSource(ints = {-5, 5})
  void writesLandingAsARunStartsAreReadByExactlyOneRun(int skewSeconds) {
    // Frozen on a whole second (the Date header's resolution), so the cap is known exactly.
    Instant sourceNow = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(skewSeconds);
    TestClock clock = TestClock.frozenAt(sourceNow);
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).pageSize("users", 5).clock(clock).start()) {
      List<String> stamps = new ArrayList<>();
      AtomicInteger discovery = new AtomicInteger();
      AtomicInteger userPages = new AtomicInteger();
      source.setRequestListener((method, path, query) -> {
        if (path.equals("/tables") && discovery.incrementAndGet() == 2) { // the call that takes the cap
          stamps.add(String.valueOf(source.upsert("users", Map.of("user_id", "user_8000")).get("updated_at")));
        }
        if (path.equals("/tables/users/records") && userPages.incrementAndGet() == 2) {
          source.upsert("users", Map.of("user_id", "user_8001"));
        }
      });
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("users.json", "\"source_table\": \"users\"");
      Instant cap = h.runOk(spec).plan().cap();
      source.setRequestListener(null);
      clock.advance(Duration.ofSeconds(2));
      h.runOk(spec);

      // The cap is the source's clock, not ours: the write during the cap's own call is stamped
      // at the source's frozen instant, and is at the cap, so the first run leaves it.
      assertEquals(sourceNow, cap);
      assertEquals(sourceNow, Timestamps.parse(stamps.get(0)));
      List<String> all = h.column("users", "user_id", null);
      assertEquals(Set.of(), duplicated(all));
      Set<String> expected = users(37);
      expected.add("user_8000");
      expected.add("user_8001");
      assertEquals(expected, new TreeSet<>(all));
    }
  }

  @Test
  void aFutureStartTimestampIsCommittedAndNothingBeforeItIsReadLater() throws Exception {
    TestClock clock = TestClock.frozenAt(Instant.parse("2026-06-01T00:00:00Z"));
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("metrics.json", "\"source_table\": \"metrics\", \"table_configuration\":"
          + " {\"start_timestamp\": \"2026-06-01T01:00:00Z\"}");
      String run1 = h.runOk(spec).plan().runId();
      assertEquals(List.of(), h.column("metrics", "metric_id", run1));
      assertEquals("2026-06-01T01:00:00.000000+00:00", h.cursors("metrics").get("records"),
          "the first run commits the start, not its earlier cap");

      source.upsert("metrics", Map.of("metric_id", "metric_before_start")); // 00:00, before the start
      clock.advance(Duration.ofHours(2));
      source.upsert("metrics", Map.of("metric_id", "metric_after_start")); // 02:00
      clock.advance(Duration.ofSeconds(1));
      String run2 = h.runOk(spec).plan().runId();
      assertEquals(List.of("metric_after_start"), h.column("metrics", "metric_id", run2));
    }
  }

  @Test
  void injectedFaultsAreRetriedWithoutLossOrDuplication() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0.25).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("faults.json",
          "\"source_table\": \"users\", \"table_configuration\": {\"max_records_per_batch\": \"10\"}",
          "\"source_table\": \"products\"",
          "\"source_table\": \"orders\"");
      IngestMain.Outcome outcome = h.runOk(spec, "--retryMaxAttempts=12");
      Map.of("users", 37, "products", 53, "orders", 103).forEach((table, n) -> {
        List<String> keys = h.column(table, IngestEndToEndTest.key(table), null);
        assertEquals(Set.of(), duplicated(keys), table);
        assertEquals(n, keys.size(), table);
      });
      long retries = outcome.counters().values().stream().mapToLong(c -> c.getOrDefault("retries", 0L)).sum();
      assertTrue(retries > 0, "the fault rate should have forced retries: " + outcome.counters());
    }
  }
}
