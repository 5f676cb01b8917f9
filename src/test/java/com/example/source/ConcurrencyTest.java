package com.example.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Writers and an incremental reader race: the reader follows {@code since = last cursor seen}
 * on the records and on the tombstones, and must end up with the final version of every written
 * key (cursor order == visibility order, so nothing becomes visible behind the reader's cursor).
 *
 * <p>The writers are not coordinated in any way. The expected final state is derived afterwards
 * from what each writer was told: per key, the write with the highest stamp wins (the source
 * stamps writes in the order it applies them), and it is either a record or a tombstone.
 */
class ConcurrencyTest {
  private static final String START = "2025-01-01T00:00:00.000000+00:00";

  /** One acknowledged write: the key, its stamp, and whether it was a delete. */
  private record Write(String key, String stamp, boolean delete) {
    Instant at() {
      return OffsetDateTime.parse(stamp).toInstant();
    }
  }

  @Test
  @Timeout(300) // failure detector only
  void incrementalReaderNeverMissesAWrite() throws Exception {
    try (ExampleSource s = ExampleSource.builder().errorRate(0).pageSize("orders", 7).start()) {
      ExecutorService pool = Executors.newFixedThreadPool(3);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<List<Write>>> writers = new ArrayList<>();
      for (int w = 0; w < 3; w++) {
        final int id = w;
        writers.add(pool.submit(() -> {
          go.await(); // all writers start together
          return write(s, id);
        }));
      }
      Http h = new Http(s);
      Map<String, Write> seen = new HashMap<>();
      Feed records = new Feed("/tables/orders/records", false);
      Feed tombstones = new Feed("/tables/orders/deleted_records", true);
      go.countDown();
      while (!writers.stream().allMatch(Future::isDone)) {
        records.readPage(h, seen);
        tombstones.readPage(h, seen);
      }
      // writers are done: drain both feeds to their end
      while (records.readPage(h, seen) | tombstones.readPage(h, seen)) {
        // keep reading until both feeds return an empty page
      }
      pool.shutdown();
      Map<String, Write> expected = new HashMap<>();
      for (Future<List<Write>> f : writers) {
        for (Write w : f.get()) {
          expected.merge(w.key(), w, (a, b) -> a.at().isAfter(b.at()) ? a : b);
        }
      }
      assertEquals(expected, seen);
      assertEquals(150, expected.size()); // every key of the writers' key space was written
      assertTrue(expected.values().stream().anyMatch(Write::delete), "some keys end deleted");
    }
  }

  /** 600 writes on 150 keys shared by all writers; every tenth a delete (404 if absent, ignored). */
  private static List<Write> write(ExampleSource s, int id) {
    List<Write> done = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      String key = "order_" + (i * 7 + id) % 150;
      if (i % 10 == 9) {
        try {
          done.add(new Write(key, (String) s.delete("orders", key).get("updated_at"), true));
        } catch (ApiError notThere) {
          assertEquals(404, notThere.status());
        }
      } else {
        done.add(new Write(key, (String) s.upsert("orders", Map.of("order_id", key, "status", "w" + id)).get("updated_at"), false));
      }
    }
    return done;
  }

  /** An incremental feed: pages by {@code since = last cursor seen}, cursors strictly increasing. */
  private static final class Feed {
    final String path;
    final boolean tombstones;
    String since = START;
    Instant last = Instant.MIN;

    Feed(String path, boolean tombstones) {
      this.path = path;
      this.tombstones = tombstones;
    }

    /** Reads one page into {@code seen} (newest stamp per key wins); false if it was empty. */
    boolean readPage(Http h, Map<String, Write> seen) {
      Http.Resp r = h.get(path + "?since=" + since.replace("+", "%2B"));
      assertEquals(200, r.status, r.toString());
      JsonNode recs = r.json.get("records");
      for (JsonNode rec : recs) {
        Write w = new Write(rec.get("order_id").asText(), rec.get("updated_at").asText(), tombstones);
        assertTrue(w.at().isAfter(last), w.at() + " not after " + last + " in " + path);
        last = w.at();
        since = w.stamp();
        seen.merge(w.key(), w, (a, b) -> a.at().isAfter(b.at()) ? a : b);
      }
      return recs.size() > 0;
    }
  }
}
