package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.example.testing.SourceRows;
import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.TableDescriptor;
import com.example.connector.catalog.Timestamps;
import com.example.connector.continuous.ContinuousTable;
import com.example.connector.continuous.IntervalCommitter;
import com.example.connector.read.FeedBatch;
import com.example.source.ExampleSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A continuous run's committer of {@code orders}, whose records and tombstones are two feeds read
 * each on its own: an order read by the records feed just before it is deleted, and delivered
 * after the tombstones feed's poll that read its tombstone, stays deleted. (Committing each feed
 * as far as it reached, the tombstone was committed first and the late record then brought the
 * deleted order back.) Real tables, real source writes; the batches as the two polls deliver them.
 */
class IntervalCommitterDeletesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void aRecordReadBeforeItsDeleteAndDeliveredAfterTheTombstoneStaysDeleted() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      PlannedTable orders = h.runOk(h.spec("orders.json", "\"source_table\": \"orders\"")).plan().tables().get(0);
      long cursor = Timestamps.parseMicros(h.cursors("orders").get("records"));
      TableDescriptor table = orders.context().table();
      Schema schema = RecordSchemas.schemaOf(table);
      ContinuousTable committer = new ContinuousTable(orders.target(), orders.merge(), schema.toString(),
          table.cursorField(), Map.of("records", cursor, "deleted_records", cursor), false, "test", Map.of());
      JsonNode update = JSON.valueToTree(source.upsert("orders", Map.of("order_id", "order_0001", "status", "pending")));
      JsonNode tombstone = JSON.valueToTree(source.delete("orders", "order_0001"));
      long updated = Timestamps.parseMicros(update.get("updated_at").asText());
      long deleted = Timestamps.parseMicros(tombstone.get("updated_at").asText());
      RecordSchemas.RunStamp stamp = new RecordSchemas.RunStamp("test", deleted);

      // The tombstones feed's poll, after the delete, arrives first.
      List<FeedBatch> held = commit(committer, List.of(), new FeedBatch("deleted_records", cursor, deleted + 1,
          List.of(SourceRows.toRow(schema, table, tombstone, stamp, "delete"))));
      // Then the records feed's poll, which read the order before the delete; then its next, empty.
      held = commit(committer, held, new FeedBatch("records", cursor, updated + 1,
          List.of(SourceRows.toRow(schema, table, update, stamp, "upsert"))));
      held = commit(committer, held, new FeedBatch("records", updated + 1, deleted + 5, List.of()));

      assertEquals(List.of(), held.stream().filter(b -> !b.rows().isEmpty()).toList(), "every row committed");
      assertFalse(h.rows("orders").stream().anyMatch(r -> r.get("order_id").toString().equals("order_0001")),
          "the deleted order is not in the table");
      assertEquals(Map.of("deleted_records", Timestamps.formatMicros(deleted + 1), "records", Timestamps.formatMicros(deleted + 1)),
          h.cursors("orders"), "both feeds committed up to the same cursor");
    }
  }

  /** One commit interval: the batches held from the last one and a new one; what it holds after. */
  private static List<FeedBatch> commit(ContinuousTable committer, List<FeedBatch> held, FeedBatch arrived) {
    List<FeedBatch> batches = new ArrayList<>(held);
    batches.add(arrived);
    return IntervalCommitter.commit(committer, batches, false, Instant.now(), Map.of()).remaining();
  }
}
