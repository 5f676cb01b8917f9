package com.example.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The HTTP contract of source-api.md, over real HTTP on an ephemeral port. */
class ExampleSourceConformanceTest {
  static ExampleSource shared; // read-only: default data set, no faults
  static Http http;

  @BeforeAll
  static void start() {
    shared = ExampleSource.builder().port(0).errorRate(0.0).start();
    http = new Http(shared);
  }

  @AfterAll
  static void stop() {
    shared.close();
  }

  static ExampleSource fresh() {
    return ExampleSource.builder().errorRate(0.0).start();
  }

  /** All records of a table, following next_page. */
  static List<JsonNode> all(Http h, String pathAndQuery) {
    List<JsonNode> out = new ArrayList<>();
    String sep = pathAndQuery.contains("?") ? "&" : "?";
    for (int page = 1; ; page++) {
      Http.Resp r = h.get(pathAndQuery + sep + "page=" + page);
      assertEquals(200, r.status, r.toString());
      r.json.get("records").forEach(out::add);
      JsonNode next = r.json.get("next_page");
      if (next.isNull()) {
        return out;
      }
      assertEquals(page + 1, next.asInt());
    }
  }

  static Instant ts(JsonNode rec, String field) {
    return OffsetDateTime.parse(rec.get(field).asText()).toInstant();
  }

  // ------------------------------------------------------------------ discovery

  @Test
  void listsDiscoverableTablesInOrderNeverMetrics() {
    Http.Resp r = http.get("/tables");
    assertEquals(200, r.status);
    assertEquals("application/json", r.header("content-type"));
    assertEquals("{\"tables\":[\"products\",\"events\",\"users\",\"orders\"]}", r.raw.body());
  }

  @Test
  void schemas() throws Exception {
    Http.Resp r = http.get("/tables/products/schema");
    assertEquals(200, r.status);
    assertEquals(Http.M.readTree("{\"schema\":[{\"name\":\"product_id\",\"type\":\"string\",\"nullable\":false},"
        + "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true},{\"name\":\"price\",\"type\":\"double\",\"nullable\":true},"
        + "{\"name\":\"category\",\"type\":\"string\",\"nullable\":true}]}"), r.json);
    Map<String, List<String>> cols = Map.of(
        "events", List.of("event_id", "event_type", "user_id", "payload", "created_at"),
        "users", List.of("user_id", "email", "display_name", "status", "updated_at"),
        "orders", List.of("order_id", "user_id", "amount", "status", "updated_at"));
    for (Map.Entry<String, List<String>> e : cols.entrySet()) {
      JsonNode s = http.get("/tables/" + e.getKey() + "/schema").json.get("schema");
      List<String> names = new ArrayList<>();
      s.forEach(f -> names.add(f.get("name").asText()));
      assertEquals(e.getValue(), names);
      assertFalse(s.get(0).get("nullable").asBoolean());
      assertEquals("timestamp", s.get(4).get("type").asText());
    }
    assertEquals(404, http.get("/tables/metrics/schema").status);
    assertEquals(404, http.get("/tables/nope/schema").status);
  }

  @Test
  void metadata() throws Exception {
    assertEquals(Http.M.readTree("{\"metadata\":{\"primary_keys\":[\"product_id\"]}}"), http.get("/tables/products/metadata").json);
    assertEquals(Http.M.readTree("{\"metadata\":{\"cursor_field\":\"created_at\"}}"), http.get("/tables/events/metadata").json);
    assertEquals(Http.M.readTree("{\"metadata\":{\"primary_keys\":[\"user_id\"],\"cursor_field\":\"updated_at\"}}"),
        http.get("/tables/users/metadata").json);
    assertEquals(Http.M.readTree("{\"metadata\":{\"primary_keys\":[\"order_id\"],\"cursor_field\":\"updated_at\"}}"),
        http.get("/tables/orders/metadata").json);
    Http.Resp m = http.get("/tables/metrics/metadata");
    assertEquals(404, m.status);
    assertTrue(m.json.get("error").isTextual());
    assertEquals(404, http.get("/tables/nope/metadata").status);
  }

  // ------------------------------------------------------------------ reading

  @Test
  void defaultVolumesSortedAndPagedByTableMax() {
    Map<String, Integer> volume = Map.of("products", 53, "events", 101, "users", 37, "orders", 103, "metrics", 253);
    Map<String, Integer> size = Map.of("products", 20, "events", 50, "users", 15, "orders", 40, "metrics", 100);
    Map<String, String[]> order = Map.of("products", new String[] {null, "product_id"},
        "events", new String[] {"created_at", "event_id"}, "users", new String[] {"updated_at", "user_id"},
        "orders", new String[] {"updated_at", "order_id"}, "metrics", new String[] {"updated_at", "metric_id"});
    for (String t : volume.keySet()) {
      List<JsonNode> recs = all(http, "/tables/" + t + "/records");
      assertEquals(volume.get(t), recs.size(), t);
      assertEquals(size.get(t), http.get("/tables/" + t + "/records").json.get("records").size(), t);
      String[] o = order.get(t);
      for (int i = 1; i < recs.size(); i++) {
        JsonNode a = recs.get(i - 1);
        JsonNode b = recs.get(i);
        int c = o[0] == null ? 0 : ts(a, o[0]).compareTo(ts(b, o[0]));
        if (c == 0) {
          c = a.get(o[1]).asText().compareTo(b.get(o[1]).asText());
        }
        assertTrue(c < 0, t + " not sorted at " + i);
      }
    }
  }

  @Test
  void seedContentFollowsTheContract() {
    try (ExampleSource s = ExampleSource.builder().errorRate(0).nullRate(0).start()) {
      Http h = new Http(s);
      JsonNode p = h.get("/tables/products/records").json.get("records");
      assertEquals("prod_0000", p.get(0).get("product_id").asText());
      assertEquals(10.0, p.get(0).get("price").asDouble());
      assertEquals(14.5, p.get(3).get("price").asDouble());
      assertEquals("electronics", p.get(0).get("category").asText());
      assertEquals("books", p.get(1).get("category").asText());
      assertEquals("clothing", p.get(2).get("category").asText());
      JsonNode e = h.get("/tables/events/records").json.get("records");
      assertEquals("00000000-0000-4000-8000-00000000000a", e.get(10).get("event_id").asText());
      assertEquals("click", e.get(0).get("event_type").asText());
      assertEquals("purchase", e.get(2).get("event_type").asText());
      assertEquals("user_003", e.get(8).get("user_id").asText());
      assertEquals("2024-01-01T00:00:10.000000+00:00", e.get(10).get("created_at").asText());
      JsonNode u = h.get("/tables/users/records").json.get("records");
      assertEquals("user_0002", u.get(2).get("user_id").asText());
      assertEquals("user2@example.com", u.get(2).get("email").asText());
      assertEquals("active", u.get(2).get("status").asText());
      assertEquals("2024-01-01T00:02:00.000000+00:00", u.get(2).get("updated_at").asText());
      JsonNode o = h.get("/tables/orders/records").json.get("records");
      assertEquals("user_0003", o.get(13).get("user_id").asText());
      assertEquals(59.9, o.get(3).get("amount").asDouble(), 1e-9);
      assertEquals("shipped", o.get(4).get("status").asText());
      assertEquals("2024-01-01T00:00:13.000000+00:00", o.get(13).get("updated_at").asText());
      JsonNode m = h.get("/tables/metrics/records").json.get("records").get(7);
      assertEquals("metric_0007", m.get("metric_id").asText());
      assertEquals("metric.net", m.get("name").asText());
      assertEquals(7, m.get("value").get("count").asLong());
      assertEquals("critical", m.get("value").get("label").asText());
      assertEquals(7.7, m.get("value").get("measure").asDouble(), 1e-9);
      assertEquals("host-1", m.get("host").asText());
      assertEquals("2024-01-01T00:07:00.000000+00:00", m.get("updated_at").asText());
    }
    try (ExampleSource s = ExampleSource.builder().errorRate(0).nullRate(1.0).start()) {
      JsonNode o = new Http(s).get("/tables/orders/records").json.get("records").get(0);
      assertEquals("order_0000", o.get("order_id").asText());
      assertTrue(o.get("user_id").isNull() && o.get("amount").isNull() && o.get("status").isNull());
      assertFalse(o.get("updated_at").isNull());
    }
    // the default null rate 0.2 produces some nulls in a deterministic pattern
    int nulls = 0;
    for (JsonNode r : all(http, "/tables/users/records")) {
      if (r.get("email").isNull()) {
        nulls++;
      }
    }
    assertTrue(nulls > 0 && nulls < 37, "nulls " + nulls);
  }

  @Test
  void eventsLimit() {
    Http.Resp r = http.get("/tables/events/records?limit=7");
    assertEquals(7, r.json.get("records").size());
    assertEquals(2, r.json.get("next_page").asInt());
    assertEquals(101, all(http, "/tables/events/records?limit=7").size());
    assertEquals(50, http.get("/tables/events/records?limit=500").json.get("records").size());
    assertEquals(50, http.get("/tables/events/records?limit=99999999999999999999999").json.get("records").size());
    for (String bad : new String[] {"0", "-1", "abc", "1.5", "", "%2B3"}) {
      Http.Resp b = http.get("/tables/events/records?limit=" + bad);
      assertEquals(400, b.status, bad);
      assertTrue(b.json.get("error").asText().contains("limit"), b.toString());
    }
    Http.Resp last = http.get("/tables/events/records?limit=101");
    assertEquals(50, last.json.get("records").size());
  }

  @Test
  void pageParameter() {
    for (String bad : new String[] {"0", "-1", "abc", "1.0", "", "1e3"}) {
      Http.Resp b = http.get("/tables/users/records?page=" + bad);
      assertEquals(400, b.status, bad);
      assertTrue(b.json.get("error").asText().contains("page"), b.toString());
    }
    Http.Resp last = http.get("/tables/users/records?page=3");
    assertEquals(7, last.json.get("records").size());
    assertTrue(last.json.get("next_page").isNull());
    Http.Resp beyond = http.get("/tables/users/records?page=4");
    assertEquals(0, beyond.json.get("records").size());
    assertTrue(beyond.json.get("next_page").isNull());
    Http.Resp huge = http.get("/tables/users/records?page=99999999999999999999");
    assertEquals(200, huge.status);
    assertEquals(0, huge.json.get("records").size());
    assertTrue(huge.json.get("next_page").isNull());
    assertEquals(200, http.get("/tables/users/records?page=9223372036854775807").status);
    // exact multiple: 40 orders per page, page size override makes 103 -> check via products 53 = 20+20+13
    assertTrue(http.get("/tables/products/records?page=3").json.get("next_page").isNull());
  }

  @Test
  void exactMultipleLastPageHasNullNextPage() {
    try (ExampleSource s = ExampleSource.builder().errorRate(0).rows("users", 30).start()) {
      Http h = new Http(s);
      assertEquals(3, h.get("/tables/users/records?page=1").json.get("next_page").asInt() + 1);
      Http.Resp p2 = h.get("/tables/users/records?page=2");
      assertEquals(15, p2.json.get("records").size());
      assertTrue(p2.json.get("next_page").isNull());
    }
  }

  @Test
  void unknownParameterIsNamed() {
    String[][] cases = {{"products", "since"}, {"products", "limit"}, {"events", "until"}, {"users", "until"},
        {"users", "status"}, {"orders", "category"}, {"metrics", "limit"}, {"users", "foo"}};
    for (String[] c : cases) {
      Http.Resp r = http.get("/tables/" + c[0] + "/records?" + c[1] + "=1");
      assertEquals(400, r.status, c[0] + " " + c[1]);
      assertTrue(r.json.get("error").asText().contains(c[1]), r.toString());
    }
    Http.Resp d = http.get("/tables/orders/deleted_records?status=shipped");
    assertEquals(400, d.status);
    assertTrue(d.json.get("error").asText().contains("status"));
    assertEquals(400, http.get("/tables/users/records?page=1&page=2").status);
  }

  @Test
  void sinceAndUntilAreComparedAsInstants() {
    String[] sameInstant = {"2024-01-01T00:10:00Z", "2024-01-01T00:10:00.000000+00:00", "2024-01-01T02:10:00%2B02:00",
        "2024-01-01T02:10:00+02:00", "2024-01-01T00:10:00.0Z", "2024-01-01T00:10Z", "2023-12-31T23:10:00-01:00"};
    for (String since : sameInstant) {
      Http.Resp r = http.get("/tables/users/records?since=" + since);
      assertEquals(200, r.status, since + " " + r);
      assertEquals("user_0011", r.json.get("records").get(0).get("user_id").asText(), since);
      assertEquals(15, r.json.get("records").size());
    }
    assertEquals("user_0011", http.get("/tables/users/records?since=2024-01-01T00:10:00.5Z").json.get("records").get(0).get("user_id").asText());
    assertEquals("user_0010", http.get("/tables/users/records?since=2024-01-01T00:09:59.9999999Z").json.get("records").get(0).get("user_id").asText());
    assertEquals(37, http.get("/tables/users/records?since=1999-01-01T00:00:00Z").json.get("records").size() + 22);
    Http.Resp after = http.get("/tables/users/records?since=2030-01-01T00:00:00Z");
    assertEquals(0, after.json.get("records").size());
    assertTrue(after.json.get("next_page").isNull());
    // until (metrics only) is inclusive
    JsonNode m = http.get("/tables/metrics/records?since=2024-01-01T00:00:00Z&until=2024-01-01T01:05:00%2B01:00").json.get("records");
    assertEquals(5, m.size());
    assertEquals("metric_0001", m.get(0).get("metric_id").asText());
    assertEquals("metric_0005", m.get(4).get("metric_id").asText());
    assertEquals(0, http.get("/tables/metrics/records?since=2024-01-01T01:00:00Z&until=2024-01-01T00:00:00Z").json.get("records").size());
    for (String bad : new String[] {"yesterday", "2024-01-01T00:00:00", "2024-01-01", "", "2024-13-01T00:00:00Z"}) {
      Http.Resp r = http.get("/tables/users/records?since=" + bad);
      assertEquals(400, r.status, bad);
      assertTrue(r.json.get("error").asText().contains("since"));
    }
    Http.Resp u = http.get("/tables/metrics/records?until=nope");
    assertEquals(400, u.status);
    assertTrue(u.json.get("error").asText().contains("until"));
  }

  @Test
  void filtersAreExactMatch() {
    List<JsonNode> allProducts = all(http, "/tables/products/records");
    for (String cat : new String[] {"books", "electronics", "clothing", "Books", "none"}) {
      List<JsonNode> got = all(http, "/tables/products/records?category=" + cat);
      long want = allProducts.stream().filter(p -> cat.equals(p.get("category").asText(null))).count();
      assertEquals(want, got.size(), cat);
      got.forEach(p -> assertEquals(cat, p.get("category").asText()));
    }
    List<JsonNode> allOrders = all(http, "/tables/orders/records");
    List<JsonNode> got = all(http, "/tables/orders/records?status=shipped&user_id=user_0001");
    long want = allOrders.stream().filter(o -> "shipped".equals(o.get("status").asText(null))
        && "user_0001".equals(o.get("user_id").asText(null))).count();
    assertEquals(want, got.size());
    assertTrue(want > 0);
    try (ExampleSource s = ExampleSource.builder().errorRate(0).pageSize("orders", 3).start()) {
      Http h = new Http(s);
      List<JsonNode> paged = all(h, "/tables/orders/records?status=pending");
      long w = all(h, "/tables/orders/records").stream().filter(o -> "pending".equals(o.get("status").asText(null))).count();
      assertEquals(w, paged.size());
      Http.Resp r = h.get("/tables/orders/records?status=pending&since=2024-01-01T00:01:00Z");
      r.json.get("records").forEach(o -> assertTrue(ts(o, "updated_at").isAfter(Instant.parse("2024-01-01T00:01:00Z"))));
    }
  }

  @Test
  void pagesAreReplayableAndDeterministicAcrossServers() {
    try (ExampleSource a = ExampleSource.builder().errorRate(0).seed(7).start();
         ExampleSource b = ExampleSource.builder().errorRate(0).seed(7).start();
         ExampleSource c = ExampleSource.builder().errorRate(0).seed(8).start()) {
      Http ha = new Http(a);
      Http hb = new Http(b);
      boolean differs = false;
      for (String t : new String[] {"products", "events", "users", "orders", "metrics"}) {
        for (int page = 1; page <= 3; page++) {
          String q = "/tables/" + t + "/records?page=" + page;
          String first = ha.get(q).raw.body();
          assertEquals(first, ha.get(q).raw.body(), "replay " + q);
          assertEquals(first, hb.get(q).raw.body(), "same seed " + q);
          differs |= !first.equals(new Http(c).get(q).raw.body());
        }
      }
      assertTrue(differs, "another seed should give other nulls");
    }
  }

  @Test
  void tiesShareCursorValues() {
    try (ExampleSource s = ExampleSource.builder().errorRate(0).ties(3).start()) {
      Http h = new Http(s);
      List<JsonNode> users = all(h, "/tables/users/records");
      assertEquals(37, users.size());
      for (int i = 0; i < users.size(); i++) {
        assertEquals("user_" + String.format("%04d", i), users.get(i).get("user_id").asText());
        assertEquals(Instant.parse("2024-01-01T00:00:00Z").plusSeconds(60L * (i / 3)), ts(users.get(i), "updated_at"));
      }
      // since = a shared cursor value skips its whole group
      JsonNode r = h.get("/tables/users/records?since=2024-01-01T00:01:00Z").json.get("records");
      assertEquals("user_0006", r.get(0).get("user_id").asText());
    }
  }

  @Test
  void hiddenMetricsRecordsWork() {
    Http.Resp r = http.get("/tables/metrics/records?page=3");
    assertEquals(200, r.status);
    assertEquals(53, r.json.get("records").size());
    assertTrue(r.json.get("next_page").isNull());
  }

  // ------------------------------------------------------------------ writes

  @Test
  void upsertReplacesWholeRecordAndMovesItToTheEnd() {
    Instant now = Instant.parse("2026-03-04T05:06:07.123456789Z");
    try (ExampleSource s = ExampleSource.builder().errorRate(0).clock(Clock.fixed(now, ZoneOffset.UTC)).start()) {
      Http h = new Http(s);
      Http.Resp r = h.post("/tables/users/records",
          "{\"user_id\":\"user_0003\",\"email\":\"x@y\",\"updated_at\":\"1999-01-01T00:00:00Z\"}");
      assertEquals(200, r.status, r.toString());
      JsonNode rec = r.json.get("record");
      assertEquals("x@y", rec.get("email").asText());
      assertTrue(rec.get("display_name").isNull()); // whole record replaced
      assertTrue(rec.get("status").isNull());
      assertEquals("2026-03-04T05:06:07.123456+00:00", rec.get("updated_at").asText());
      List<JsonNode> users = all(h, "/tables/users/records");
      assertEquals(37, users.size());
      assertEquals("user_0003", users.get(36).get("user_id").asText());
      assertEquals(rec, users.get(36));
      assertEquals(1, users.stream().filter(u -> u.get("user_id").asText().equals("user_0003")).count());
      // stamps strictly increase even with a frozen clock
      Instant prev = ts(rec, "updated_at");
      for (int i = 0; i < 5; i++) {
        Instant next = ts(h.post("/tables/orders/records", "{\"order_id\":\"order_9" + i + "\"}").json.get("record"), "updated_at");
        assertTrue(next.isAfter(prev), next + " after " + prev);
        prev = next;
      }
      Instant del = ts(h.delete("/tables/orders/records/order_0001").json.get("record"), "updated_at");
      assertTrue(del.isAfter(prev));
      // new keys: since = the first write returns the later writes, in write order
      JsonNode after = h.get("/tables/orders/records?since=2026-03-04T05:06:07.123456Z").json.get("records");
      assertEquals(5, after.size());
      assertEquals("order_90", after.get(0).get("order_id").asText());
      // struct round trip on metrics; cursor not nullable but server-set
      Http.Resp m = h.post("/tables/metrics/records",
          "{\"metric_id\":\"metric_0001\",\"value\":{\"count\":5,\"measure\":2}}");
      assertEquals(200, m.status, m.toString());
      assertEquals(5, m.json.get("record").get("value").get("count").asLong());
      assertTrue(m.json.get("record").get("value").get("label").isNull());
      assertEquals(2.0, m.json.get("record").get("value").get("measure").asDouble());
      assertFalse(m.json.get("record").get("updated_at").isNull());
    }
  }

  @Test
  void insertOnlyTables() {
    try (ExampleSource s = fresh()) {
      Http h = new Http(s);
      Http.Resp p = h.post("/tables/products/records", "{\"product_id\":\"prod_0053\",\"name\":\"N\",\"price\":1,\"category\":\"books\"}");
      assertEquals(201, p.status, p.toString());
      assertEquals(1.0, p.json.get("record").get("price").asDouble());
      assertEquals(54, all(h, "/tables/products/records").size());
      Http.Resp dup = h.post("/tables/products/records", "{\"product_id\":\"prod_0001\"}");
      assertEquals(409, dup.status);
      assertTrue(dup.json.get("error").asText().contains("prod_0001"));
      assertEquals(409, h.post("/tables/products/records", "{\"product_id\":\"prod_0053\"}").status);
      Http.Resp e = h.post("/tables/events/records", "{\"event_id\":\"abc\",\"event_type\":\"click\"}");
      assertEquals(200, e.status);
      assertFalse(e.json.get("record").get("created_at").isNull());
      assertEquals(409, h.post("/tables/events/records", "{\"event_id\":\"abc\"}").status);
      assertEquals(409, h.post("/tables/events/records", "{\"event_id\":\"00000000-0000-4000-8000-000000000064\"}").status);
      assertEquals(200, h.post("/tables/events/records", "{\"event_id\":\"00000000-0000-4000-8000-000000000065\"}").status);
      assertEquals(103, all(h, "/tables/events/records").size());
      assertEquals(404, h.post("/tables/nope/records", "{}").status);
      assertEquals(3, s.writeCount());
    }
  }

  @Test
  void deleteAndTombstones() {
    try (ExampleSource s = fresh()) {
      Http h = new Http(s);
      Http.Resp d = h.delete("/tables/orders/records/order_0007");
      assertEquals(200, d.status, d.toString());
      JsonNode t = d.json.get("record");
      List<String> names = new ArrayList<>();
      t.fieldNames().forEachRemaining(names::add);
      assertEquals(List.of("order_id", "user_id", "amount", "status", "updated_at"), names);
      assertEquals("order_0007", t.get("order_id").asText());
      assertTrue(t.get("user_id").isNull() && t.get("amount").isNull() && t.get("status").isNull());
      assertFalse(t.get("updated_at").isNull());
      assertEquals(102, all(h, "/tables/orders/records").size());
      JsonNode tombs = h.get("/tables/orders/deleted_records").json;
      assertEquals(t, tombs.get("records").get(0));
      assertTrue(tombs.get("next_page").isNull());
      assertEquals(0, h.get("/tables/orders/deleted_records?since=" + t.get("updated_at").asText().replace("+", "%2B"))
          .json.get("records").size());
      assertEquals(404, h.delete("/tables/orders/records/order_0007").status);
      assertEquals(404, h.delete("/tables/orders/records/order_9999").status);
      assertEquals(400, h.delete("/tables/users/records/user_0001").status);
      assertEquals(400, h.delete("/tables/metrics/records/metric_0001").status);
      assertEquals(404, h.delete("/tables/nope/records/x").status);
      assertEquals(400, h.get("/tables/users/deleted_records").status);
      assertEquals(404, h.get("/tables/nope/deleted_records").status);
      // re-insert
      assertEquals(200, h.post("/tables/orders/records", "{\"order_id\":\"order_0007\",\"status\":\"pending\"}").status);
      assertEquals(103, all(h, "/tables/orders/records").size());
      assertEquals(1, h.get("/tables/orders/deleted_records").json.get("records").size());
      // Java API, and deleted_records paging with a small page size
      Map<String, Object> tomb = s.delete("orders", "order_0008");
      assertEquals("order_0008", tomb.get("order_id"));
      assertEquals("zzz", s.upsert("events", Map.of("event_id", "zzz")).get("event_id"));
      assertEquals(409, assertThrows(ApiError.class, () -> s.upsert("events", Map.of("event_id", "zzz"))).status());
    }
    try (ExampleSource s = ExampleSource.builder().errorRate(0).pageSize("orders", 2).start()) {
      for (int i = 0; i < 5; i++) {
        s.delete("orders", "order_000" + i);
      }
      List<JsonNode> tombs = all(new Http(s), "/tables/orders/deleted_records");
      assertEquals(5, tombs.size());
      assertEquals("order_0004", tombs.get(4).get("order_id").asText());
    }
  }

  @Test
  void badPostBodiesAre4xxAndChangeNothing() {
    try (ExampleSource s = fresh()) {
      Http h = new Http(s);
      String before = h.get("/tables/metrics/records").raw.body();
      String[][] cases = {
          {"users", "{", "JSON"},
          {"users", "", "JSON"},
          {"users", "[1]", "object"},
          {"users", "\"x\"", "object"},
          {"users", "{\"user_id\":\"u\"} {}", "JSON"},
          {"users", "{\"user_id\":\"u\",\"user_id\":\"v\"}", "user_id"},
          {"users", "{\"user_id\":\"u\",\"nick\":\"x\"}", "nick"},
          {"users", "{\"email\":\"x\"}", "user_id"},
          {"users", "{\"user_id\":null}", "user_id"},
          {"users", "{\"user_id\":7}", "user_id"},
          {"users", "{\"user_id\":\"\"}", "user_id"},
          {"users", "{\"user_id\":\"u\",\"email\":5}", "email"},
          {"orders", "{\"order_id\":\"o\",\"amount\":\"5\"}", "amount"},
          {"orders", "{\"order_id\":\"o\",\"amount\":true}", "amount"},
          {"products", "{\"product_id\":\"p\",\"price\":[1]}", "price"},
          {"metrics", "{\"metric_id\":\"m\",\"value\":5}", "value"},
          {"metrics", "{\"metric_id\":\"m\",\"value\":{\"count\":1.5}}", "count"},
          {"metrics", "{\"metric_id\":\"m\",\"value\":{\"count\":99999999999999999999}}", "count"},
          {"metrics", "{\"metric_id\":\"m\",\"value\":{\"count\":\"1\"}}", "count"},
          {"metrics", "{\"metric_id\":\"m\",\"value\":{\"other\":1}}", "other"},
          {"metrics", "{\"metric_id\":\"m\",\"host\":{}}", "host"},
          {"events", "{\"event_type\":\"click\"}", "event_id"},
      };
      for (String[] c : cases) {
        Http.Resp r = h.post("/tables/" + c[0] + "/records", c[1]);
        assertTrue(r.status >= 400 && r.status < 500, c[1] + " -> " + r);
        assertEquals(400, r.status, c[1]);
        assertTrue(r.json.get("error").asText().contains(c[2]), c[1] + " -> " + r);
      }
      assertEquals(0, s.writeCount());
      assertEquals(before, h.get("/tables/metrics/records").raw.body());
      assertEquals(37, all(h, "/tables/users/records").size());
      ApiError e = assertThrows(ApiError.class, () -> s.upsert("users", Map.of("email", "x")));
      assertEquals(400, e.status());
      assertEquals(404, assertThrows(ApiError.class, () -> s.upsert("nope", Map.of())).status());
      assertEquals(400, assertThrows(ApiError.class, () -> s.delete("users", "user_0001")).status());
      assertEquals(404, assertThrows(ApiError.class, () -> s.delete("orders", "nope")).status());
      assertEquals(0, s.writeCount());
    }
  }

  @Test
  void requestListenerInjectsWritesBetweenPageReads() {
    try (ExampleSource s = ExampleSource.builder().errorRate(0).pageSize("users", 10).start()) {
      Http h = new Http(s);
      long before = s.requestCount();
      List<String> seen = new ArrayList<>();
      s.setRequestListener((method, path, query) -> {
        seen.add(method + " " + path + " " + query);
        if ("page=2".equals(query)) {
          s.upsert("users", Map.of("user_id", "user_0000"));
        }
      });
      JsonNode p1 = h.get("/tables/users/records?page=1").json.get("records");
      JsonNode p2 = h.get("/tables/users/records?page=2").json.get("records");
      s.setRequestListener(null);
      h.get("/tables");
      assertEquals(List.of("GET /tables/users/records page=1", "GET /tables/users/records page=2"), seen);
      assertEquals("user_0000", p1.get(0).get("user_id").asText());
      assertEquals("user_0011", p2.get(0).get("user_id").asText()); // shifted by the removed user_0000
      assertEquals(before + 3, s.requestCount());
    }
  }

  /** A column added while clients read: listed by the schema, writable, in every record (null where unwritten). */
  @Test
  void aColumnAddedAtRunTime() {
    try (ExampleSource s = fresh()) {
      Http h = new Http(s);
      s.addColumn("users", "tier", "string");
      JsonNode schema = h.get("/tables/users/schema").json.get("schema");
      assertEquals("{\"name\":\"tier\",\"type\":\"string\",\"nullable\":true}", schema.get(5).toString());
      assertEquals(200, h.post("/tables/users/records", "{\"user_id\": \"user_0001\", \"tier\": \"gold\"}").status);
      s.upsert("orders", Map.of("order_id", "order_0001")); // another table: no such column
      List<JsonNode> users = all(h, "/tables/users/records");
      assertEquals(37, users.size());
      for (JsonNode u : users) {
        assertEquals(6, u.size(), u.toString());
        assertEquals(u.get("user_id").asText().equals("user_0001") ? "\"gold\"" : "null", u.get("tier").toString());
      }
      assertFalse(all(h, "/tables/orders/records").get(0).has("tier"));
      assertEquals(409, assertThrows(ApiError.class, () -> s.addColumn("users", "email", "string")).status());
      assertEquals(400, h.post("/tables/orders/records", "{\"order_id\": \"o\", \"tier\": \"x\"}").status);
    }
  }

  // ------------------------------------------------------------------ transport

  @Test
  void basicAuth() {
    String[] bad = {null, "", "Basic", "Basic !!!", "Bearer abc", basic(":pass"), basic("user:"), basic(" : "),
        basic("user: \t"), basic("userpass"), "Basic " + Base64.getEncoder().encodeToString(new byte[] {(byte) 0xff, ':', 'a'})};
    for (String auth : bad) {
      Http.Resp r = http.getWithAuth("/tables", auth);
      assertEquals(401, r.status, String.valueOf(auth));
      assertTrue(r.json.get("error").isTextual());
    }
    assertEquals(200, http.getWithAuth("/tables", basic("a:b")).status);
    assertEquals(200, http.getWithAuth("/tables", basic("a:b:c")).status);
    assertEquals(200, http.getWithAuth("/tables", "basic " + Base64.getEncoder().encodeToString("ü:p".getBytes(StandardCharsets.UTF_8))).status);
  }

  static String basic(String userPass) {
    return "Basic " + Base64.getEncoder().encodeToString(userPass.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void unknownPathsMethodsAndEncodings() throws Exception {
    for (String p : new String[] {"/", "/foo", "/tables/", "/tables/nope", "/tables/nope/records", "/tables/users/nope",
        "/tables/users/records/x/y", "/tables/metrics/schema"}) {
      Http.Resp r = http.get(p);
      assertEquals(404, r.status, p);
      assertTrue(r.json.get("error").isTextual());
    }
    assertEquals(405, http.method("PUT", "/tables").status);
    assertEquals(405, http.method("PATCH", "/tables/users/records").status);
    assertEquals(405, http.get("/tables/orders/records/order_0001").status);
    assertEquals("200", http.raw("/tables/us%65rs/records").substring(0, 3));
    assertEquals("404", http.raw("/tables/users%00/records").substring(0, 3));
    assertEquals("404", http.raw("/tables/../tables").substring(0, 3));
    assertEquals("404", http.raw("/tables/users/../users/records").substring(0, 3));
    assertEquals("404", http.raw("/tables/users%2Frecords").substring(0, 3));
    assertTrue(http.raw("/tables/users/records?p%61ge=3").contains("user_0030"));
    assertEquals("400", http.raw("/tables/us%zzers/records").substring(0, 3));
    assertEquals("400", http.raw("/tables/users/records?since=%").substring(0, 3));
    assertEquals("400", http.raw("/tables/users/records?since=%00").substring(0, 3));
    assertEquals("400", http.raw("/tables/users/records?%00=1").substring(0, 3));
    assertEquals("400", http.raw("/tables/users/records?page=%C0").substring(0, 3));
    assertEquals("404", http.raw("/tables/%C3%BCsers/records").substring(0, 3));
    String r = http.raw("/tables/orders/records?status=shipped%26user_id%3Duser_0001");
    assertTrue(r.startsWith("200 {\"records\":[],"), r);
  }

  @Test
  void dateHeaderComesFromTheInjectedClock() {
    Clock clock = Clock.fixed(Instant.parse("2030-05-06T07:08:09.5Z"), ZoneOffset.UTC);
    try (ExampleSource s = ExampleSource.builder().errorRate(0).clock(clock).start()) {
      Http h = new Http(s);
      for (Http.Resp r : List.of(h.get("/tables"), h.get("/nope"), h.getWithAuth("/tables", null), h.post("/tables/users/records", "{"))) {
        assertEquals(List.of("Mon, 06 May 2030 07:08:09 GMT"), r.raw.headers().allValues("date"), r.toString());
        assertEquals("application/json", r.header("content-type"));
      }
      s.setErrorRate(1.0);
      assertEquals("Mon, 06 May 2030 07:08:09 GMT", h.get("/tables").header("date"));
    }
    assertNotNull(http.get("/tables").header("date"));
  }

  @Test
  void injectedFaultsAreOnly429500503AndHaveNoEffect() {
    try (ExampleSource s = ExampleSource.builder().errorRate(1.0).start()) {
      Http h = new Http(s);
      Set<Integer> statuses = new HashSet<>();
      boolean retryAfter = false;
      for (int i = 0; i < 150; i++) {
        Http.Resp r = i % 3 == 0 ? h.post("/tables/users/records", "{\"user_id\":\"user_0001\"}")
            : i % 3 == 1 ? h.delete("/tables/orders/records/order_0001") : h.get("/tables/users/records");
        assertTrue(Set.of(429, 500, 503).contains(r.status), r.toString());
        assertTrue(r.json.get("error").isTextual());
        statuses.add(r.status);
        if (r.header("retry-after") != null) {
          assertEquals(429, r.status);
          assertEquals("1", r.header("retry-after"));
          retryAfter = true;
        }
      }
      assertEquals(Set.of(429, 500, 503), statuses);
      assertTrue(retryAfter);
      assertEquals(0, s.writeCount());
      assertEquals(150, s.requestCount());
      s.setErrorRate(0.0);
      assertEquals(200, h.get("/tables").status);
      assertThrows(IllegalArgumentException.class, () -> s.setErrorRate(1.5));
    }
  }

  @Test
  void backgroundActivityWrites() throws Exception {
    // Seed rows all lie before 2020 (10,000,000 rows from 2000-01-01: the last users/metrics
    // cursor is in 2019); every write is stamped from the fixed clock in 2030.
    try (ExampleSource s = ExampleSource.builder().errorRate(0).baseTime(Instant.parse("2000-01-01T00:00:00Z"))
        .rows("users", 10_000_000).rows("orders", 10_000_000).rows("metrics", 10_000_000)
        .clock(Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneOffset.UTC)).activity(500).start()) {
      assertTrue(s.awaitWrites(50, Duration.ofMinutes(2)), "activity wrote " + s.writeCount()); // failure detector only
      s.stopActivity();
      long writes = s.writeCount();
      Http h = new Http(s);
      int fresh = 0;
      for (String t : new String[] {"events", "users", "orders", "metrics"}) {
        fresh += all(h, "/tables/" + t + "/records?since=2029-12-31T00:00:00Z").size();
      }
      fresh += all(h, "/tables/orders/deleted_records").size();
      fresh += all(h, "/tables/products/records").size() - 53;
      // By hand: each activity write inserts a new key (one more fresh row), rewrites a seed row
      // (it moves to 2030: one more fresh row) or deletes a seed order (one more tombstone). Two
      // writes to the same key would count once; among 10,000,000 seed rows per updatable table
      // the seed-42 sequence touches distinct keys (checked over its first 3,000 writes).
      assertEquals(writes, fresh);
      assertEquals(writes, s.writeCount()); // stopped: the reads above raced with no write
      s.close();
      s.close(); // idempotent
      assertEquals(writes, s.writeCount());
    }
  }

  @Test
  void closeWaitsForAnActivityWriteInProgress() throws Exception {
    CountDownLatch inWrite = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean first = new AtomicBoolean(true);
    Instant fixed = Instant.parse("2030-01-01T00:00:00Z");
    // The store reads the clock inside a write; the first activity write is held there.
    TestClock clock = TestClock.frozenAt(fixed).onRead(() -> {
      if (Thread.currentThread().getName().equals("source-activity") && first.compareAndSet(true, false)) {
        inWrite.countDown();
        awaitIgnoringInterrupts(release);
      }
    });
    ExampleSource s = ExampleSource.builder().errorRate(0).clock(clock).activity(100).start();
    inWrite.await();
    Thread closer = new Thread(s::close);
    closer.start();
    // The fixed close() cannot return before the held write completes, whatever the timing;
    // this window only gives an early-returning close() the time to show itself.
    closer.join(500);
    assertTrue(closer.isAlive(), "close() returned while an activity write was in progress");
    release.countDown();
    closer.join();
    assertEquals(1, s.writeCount()); // the held write landed before close() returned, nothing after
  }

  private static void awaitIgnoringInterrupts(CountDownLatch latch) {
    boolean interrupted = false;
    while (latch.getCount() > 0) {
      try {
        latch.await();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void onlyRuntimeExceptionsBecomeApiErrors() throws Exception {
    try (ExampleSource s = fresh()) {
      s.setRequestListener((method, path, query) -> {
        if (path.equals("/tables")) {
          throw new IllegalStateException("listener bug");
        }
        throw new AssertionError("listener assertion");
      });
      Http.Resp bug = new Http(s).get("/tables");
      assertEquals(500, bug.status);
      assertEquals("{\"error\":\"internal error: java.lang.IllegalStateException: listener bug\"}", bug.raw.body());
      // An Error is not swallowed into an API error body: Undertow logs it and answers a bare 500.
      HttpResponse<String> error = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(s.baseUrl() + "/tables/users/records")).header("Authorization", Http.AUTH).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(500, error.statusCode());
      assertEquals("", error.body());
    }
  }

  @Test
  void keepAliveServesManyRequestsOnOneConnection() throws Exception {
    okhttp3.OkHttpClient client = new okhttp3.OkHttpClient();
    for (int i = 0; i < 50; i++) {
      try (okhttp3.Response r = client.newCall(new okhttp3.Request.Builder().url(shared.baseUrl() + "/tables/orders/records?page=" + (1 + i % 3))
          .header("Authorization", Http.AUTH).build()).execute()) {
        assertEquals(200, r.code());
        assertTrue(r.body().string().startsWith("{\"records\":["));
      }
    }
    assertEquals(1, client.connectionPool().connectionCount());
    client.connectionPool().evictAll();
  }

  @Test
  void builderRejectsBadSettings() {
    assertThrows(IllegalArgumentException.class, () -> ExampleSource.builder().rows("nope", 1));
    assertThrows(IllegalArgumentException.class, () -> ExampleSource.builder().rows("users", -1));
    assertThrows(IllegalArgumentException.class, () -> ExampleSource.builder().pageSize("users", 0));
    assertThrows(IllegalArgumentException.class, () -> ExampleSource.builder().ties(0));
    assertThrows(IllegalArgumentException.class, () -> ExampleSource.builder().errorRate(-0.1));
    assertThrows(IllegalArgumentException.class, () -> ExampleSource.builder().nullRate(2));
    assertThrows(IllegalArgumentException.class, () -> ExampleSource.builder().port(70000));
    assertThrows(IllegalArgumentException.class, () -> ExampleSource.builder().latencyMs(-1));
    assertThrows(IllegalArgumentException.class, () -> ExampleSource.builder().rateLimit(-1));
  }

  @Test
  void scaleSmokeMillionRowsLargePage() {
    try (ExampleSource s = ExampleSource.builder().errorRate(0).rows("orders", 1_000_000).rows("metrics", 10_000_000).start()) {
      Http h = new Http(s);
      Http.Resp r = h.get("/tables/orders/records?page=24000");
      assertEquals(40, r.json.get("records").size());
      assertEquals("order_959960", r.json.get("records").get(0).get("order_id").asText());
      Http.Resp m = h.get("/tables/metrics/records?since=2030-01-01T00:00:00Z&page=50000");
      assertEquals(100, m.json.get("records").size());
      assertEquals(50001, m.json.get("next_page").asInt());
      Http.Resp last = h.get("/tables/orders/records?page=25000");
      assertTrue(last.json.get("next_page").isNull());
    }
  }
}
