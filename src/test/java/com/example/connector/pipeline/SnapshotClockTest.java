package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.continuous.StopSignal;
import com.example.source.ExampleSource;
import com.example.testing.TestClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot table's time is the run's cap, the source's clock: when that clock went back below
 * the table's last snapshot (a clock stepped back, a run that fell back to its own machine's, a
 * source of several hosts), the new snapshot still comes after it in an SCD type 2 history.
 */
class SnapshotClockTest {
  private static final String HISTORY = "\"source_table\": \"products\", \"destination_table\": \"products_history\"";

  @TempDir Path dir;

  @Test
  void aSnapshotReadAfterTheSourcesClockWentBackFollowsTheLastInTheHistory() {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      h.runOk(h.spec("p.json", HISTORY + ", \"table_configuration\": {\"scd_type\": \"SCD_TYPE_2\"}"));
      List<GenericRecord> first = h.rows("products_history");
      long books = first.stream().filter(r -> "books".equals(String.valueOf(r.get("category")))).count();
      long firstStart = (Long) first.get(0).get("__START_AT");
      source.upsert("products", Map.of("product_id", "prod_9999", "name", "new", "price", 1.5, "category", "books"));
      clock.advance(Duration.ofHours(-1));

      // A narrower snapshot: the products outside it are closed, the new one opened.
      h.runOk(h.spec("p.json", HISTORY
          + ", \"table_configuration\": {\"category\": \"books\", \"scd_type\": \"SCD_TYPE_2\"}"));

      List<GenericRecord> history = h.rows("products_history");
      assertEquals(53 + 1, history.size(), "the new product's version added");
      for (GenericRecord r : history) {
        Object end = r.get("__END_AT");
        boolean kept = "books".equals(String.valueOf(r.get("category")));
        if (kept) {
          assertEquals(null, end, r.toString());
        } else {
          assertTrue(end != null && (Long) end > firstStart, "closed after it opened: " + r);
        }
      }
      GenericRecord added = history.stream().filter(r -> r.get("product_id").toString().equals("prod_9999"))
          .findFirst().orElseThrow();
      assertTrue((Long) added.get("__START_AT") > firstStart, "opened after the first snapshot: " + added);
      assertEquals(books + 1, history.stream().filter(r -> r.get("__END_AT") == null).count());
    }
  }

  /**
   * As above, with a continuous run after the bounded one: its snapshots come after the table's last
   * one too. Stamped with the source's clock, an hour below it, each was dropped by the committer as
   * one the table held already, so the run landed no change to the table for that hour.
   */
  @Test
  void aContinuousRunAfterTheSourcesClockWentBackCommitsItsSnapshots() throws Exception {
    TestClock clock = TestClock.system();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).clock(clock).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("p.json", "\"source_table\": \"products\"");
      h.runOk(spec);
      source.upsert("products", Map.of("product_id", "prod_9999", "name", "new", "price", 1.5, "category", "books"));
      clock.advance(Duration.ofHours(-1));

      StopSignal.reset();
      CompletableFuture<IngestMain.Outcome> run = CompletableFuture.supplyAsync(() -> h.run(spec, "--streaming=true",
          "--pollIntervalSeconds=1", "--commitIntervalSeconds=1", "--snapshotIntervalSeconds=1"));
      try {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!hasProduct(h, "prod_9999") && System.nanoTime() < deadline) {
          assertTrue(!run.isDone(), () -> "the run ended: " + run.join().exitCode() + "\n" + h.lastOut + h.lastErr);
          Thread.sleep(250); // polls the table, which the run commits every second
        }
      } finally {
        StopSignal.request();
      }
      assertEquals(0, run.get(2, TimeUnit.MINUTES).exitCode(), h.lastOut + h.lastErr);
      assertTrue(hasProduct(h, "prod_9999"), "the continuous run's snapshot committed");
      assertEquals(53 + 1, h.rows("products").size());
    } finally {
      StopSignal.reset();
    }
  }

  private static boolean hasProduct(IngestHarness h, String id) {
    return h.rows("products").stream().anyMatch(r -> r.get("product_id").toString().equals(id));
  }
}
