package com.example.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * Writers and an incremental reader race: the reader follows {@code since = last cursor seen}
 * and must end up with the final version of every written key (cursor order == visibility
 * order, so nothing becomes visible behind the reader's cursor).
 */
class ConcurrencyTest {

  @Test
  void incrementalReaderNeverMissesAWrite() throws Exception {
    try (ExampleSource s = ExampleSource.builder().errorRate(0).pageSize("orders", 7).start()) {
      Map<String, String> finalStamp = new ConcurrentHashMap<>();
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < 3; w++) {
        final int id = w;
        Thread t = new Thread(() -> {
          for (int i = 0; i < 600; i++) {
            String key = "order_" + (i * 7 + id) % 150; // overlapping keys across writers
            if (i % 10 == 9 && finalStamp.containsKey(key)) {
              synchronized (finalStamp) {
                try {
                  s.delete("orders", key);
                  finalStamp.remove(key);
                } catch (ApiError e) {
                  // another writer deleted it first
                }
              }
              continue;
            }
            synchronized (finalStamp) { // record the final version in the same order as writes
              Map<String, Object> r = s.upsert("orders", Map.of("order_id", key, "status", "w" + id));
              finalStamp.put(key, (String) r.get("updated_at"));
            }
          }
        });
        writers.add(t);
        t.start();
      }
      Http h = new Http(s);
      Map<String, String> seen = new java.util.HashMap<>();
      String since = "2025-01-01T00:00:00.000000+00:00";
      Instant last = Instant.MIN;
      boolean finished = false;
      while (true) {
        boolean writersDone = writers.stream().noneMatch(Thread::isAlive);
        Http.Resp r = h.get("/tables/orders/records?since=" + since.replace("+", "%2B"));
        assertEquals(200, r.status);
        JsonNode recs = r.json.get("records");
        for (JsonNode rec : recs) {
          Instant c = OffsetDateTime.parse(rec.get("updated_at").asText()).toInstant();
          assertTrue(c.isAfter(last), c + " not after " + last);
          last = c;
          seen.put(rec.get("order_id").asText(), rec.get("updated_at").asText());
          since = rec.get("updated_at").asText();
        }
        if (recs.size() == 0 && finished) break;
        if (recs.size() == 0 && writersDone) finished = true; // one more empty read after writers stop
      }
      for (Thread t : writers) t.join();
      for (Map.Entry<String, String> e : finalStamp.entrySet()) {
        assertEquals(e.getValue(), seen.get(e.getKey()), "final version of " + e.getKey());
      }
      assertTrue(finalStamp.size() > 10);
    }
  }
}
