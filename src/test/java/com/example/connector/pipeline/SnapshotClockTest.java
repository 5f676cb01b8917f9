package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import com.example.testing.TestClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
}
