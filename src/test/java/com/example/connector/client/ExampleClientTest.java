package com.example.connector.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import com.example.testing.TestClock;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The client against the real simulated source (auth errors, retries, other 4xx) and against a
 * misbehaving server ({@link RawHttpServer}): the waits between attempts, and answers that are
 * not the API.
 */
class ExampleClientTest {
  private static final RetryPolicy FAST = new RetryPolicy(5, Duration.ofMillis(1), Duration.ofMillis(2));
  private static final String SECRET = "pw-that-must-not-leak";
  private static final byte[] UNAVAILABLE = RawHttpServer.response(503, "application/json", "{\"error\": \"busy\"}");

  @Test
  void a401NamesTheRequestAndTheFixButNeverTheCredentials() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start();
        ExampleClient client = ExampleClient.create(
            new SourceConfig(source.baseUrl(), " ", Password.inline("pw-that-must-not-leak"), FAST))) {
      SourceException e = assertThrows(SourceException.class, client::listTables);
      assertEquals(401, e.status());
      assertTrue(e.getMessage().contains("GET /tables failed with HTTP 401"), e.getMessage());
      assertTrue(e.getMessage().contains("check the connection"), e.getMessage());
      assertFalse(e.getMessage().contains("pw-that-must-not-leak"));
    }
  }

  /**
   * Basic credentials go out as UTF-8 (RFC 7617's only charset, and the source's): okhttp's
   * default is ISO-8859-1, which the source cannot decode, so a correct password with an accented
   * letter was refused with 401, and one outside Latin-1 was sent as question marks.
   */
  @Test
  void aPasswordBeyondAsciiIsSentAsUtf8() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start();
        ExampleClient client = ExampleClient.create(
            new SourceConfig(source.baseUrl(), "jürgen", Password.inline("pässwört"), FAST))) {
      assertEquals(List.of("products", "events", "users", "orders"), client.listTables());
    }
  }

  @Test
  void otherClientErrorsFailAtOnceWithTheServersMessage() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start();
        ExampleClient client = ExampleClient.create(
            new SourceConfig(source.baseUrl(), "u", Password.inline("p"), FAST))) {
      long before = source.requestCount();
      SourceException e = assertThrows(SourceException.class, () -> client.records("users", Map.of("bogus", "1")));
      assertEquals(400, e.status());
      assertTrue(e.getMessage().contains("bogus"), e.getMessage());
      assertEquals(before + 1, source.requestCount(), "a 400 is not retried");
    }
  }

  @Test
  void faultsAreRetriedAndCountedUntilTheAttemptsRunOut() {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(1.0).start()) {
      List<String> retries = new ArrayList<>();
      RetryPolicy threeAttempts = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(2));
      try (ExampleClient client = ExampleClient.create(
          new SourceConfig(source.baseUrl(), "u", Password.inline("p"), threeAttempts), (path, why) -> retries.add(why))) {
        SourceException e = assertThrows(SourceException.class, client::listTables);
        assertTrue(e.getMessage().contains("still failing after 3 attempts"), e.getMessage());
        assertEquals(2, retries.size());
        source.setErrorRate(0);
        assertEquals(List.of("products", "events", "users", "orders"), client.listTables());
      }
    }
  }

  /** A client of {@code server} whose waits between attempts are recorded, not slept. */
  private static ExampleClient client(RawHttpServer server, RetryPolicy policy, List<Duration> waits) {
    return ExampleClient.create(
        new SourceConfig(server.baseUrl(), "u", Password.inline(SECRET), policy), (path, why) -> {}, recordingBudget(waits));
  }

  /** A budget of its own whose time moves only by the waits, which it records instead of sleeping. */
  static CallBudget recordingBudget(List<Duration> waits) {
    TestClock clock = TestClock.frozenAt(Instant.parse("2026-01-01T00:00:00Z"));
    return new CallBudget(SourceConfig.DEFAULT_MAX_CONCURRENT_REQUESTS, clock, d -> {
      waits.add(d);
      clock.advance(d);
    });
  }

  private static ExampleClient client(RawHttpServer server) {
    return client(server, FAST, new ArrayList<>());
  }

  @Test
  void backoffStartsAtTheInitialWaitAndDoublesUpToTheMaximum() {
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> out.write(UNAVAILABLE))) {
      List<Duration> waits = new ArrayList<>();
      RetryPolicy policy = new RetryPolicy(6, Duration.ofMillis(100), Duration.ofMillis(1000));
      try (ExampleClient client = client(server, policy, waits)) {
        SourceException e = assertThrows(SourceException.class, client::listTables);
        assertEquals(503, e.status());
        assertTrue(e.isTransient());
      }
      assertEquals(List.of(ms(100), ms(200), ms(400), ms(800), ms(1000)), waits);
      assertEquals(6, server.requests().size());
    }
  }

  @Test
  void retryAfterInSecondsReplacesTheBackoffAndIsCappedAtAMinute() {
    List<byte[]> answers = List.of(
        RawHttpServer.response(429, "application/json", "{}", "Retry-After: 7"),
        RawHttpServer.response(503, "application/json", "{}", "Retry-After: 3600"),
        // past 2^31 (okhttp's own reading of a 503's failed on it)
        RawHttpServer.response(503, "application/json", "{}", "Retry-After: 99999999999999999999"),
        RawHttpServer.json("{\"tables\": [\"users\"]}"));
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> out.write(answers.get(n - 1)))) {
      List<Duration> waits = new ArrayList<>();
      try (ExampleClient client = client(server, FAST, waits)) {
        assertEquals(List.of("users"), client.listTables());
      }
      assertEquals(List.of(Duration.ofSeconds(7), Duration.ofSeconds(60), Duration.ofSeconds(60)), waits);
    }
  }

  /** A 503 asking to retry at once is retried by the policy, counted, not by okhttp on its own. */
  @Test
  void aRetryAfterOfZeroIsRetriedByThePolicyOnly() {
    try (RawHttpServer server = new RawHttpServer(
        (n, line, out) -> out.write(RawHttpServer.response(503, "application/json", "{}", "Retry-After: 0")))) {
      List<Duration> waits = new ArrayList<>();
      try (ExampleClient client = client(server, FAST, waits)) {
        assertEquals(503, assertThrows(SourceException.class, client::listTables).status());
      }
      assertEquals(FAST.maxAttempts(), server.requests().size(), "one request per attempt");
      assertEquals(List.of(Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO), waits);
    }
  }

  /** A server may echo the credentials it rejected: neither the password nor its Basic form is shown. */
  @Test
  void credentialsTheSourceEchoesAreMaskedInTheError() {
    String basic = java.util.Base64.getEncoder().encodeToString(("u:" + SECRET).getBytes(StandardCharsets.UTF_8));
    String body = "{\"error\": \"invalid credentials u/" + SECRET + " (Authorization: Basic " + basic + ")\"}";
    try (RawHttpServer server = new RawHttpServer(
        (n, line, out) -> out.write(RawHttpServer.response(401, "application/json", body)))) {
      SourceException e;
      try (ExampleClient client = client(server)) {
        e = assertThrows(SourceException.class, client::listTables);
      }
      assertTrue(e.getMessage().contains("invalid credentials u/**** (Authorization: Basic ****)"), e.getMessage());
      assertFalse(e.getMessage().contains(SECRET), e.getMessage());
      assertFalse(e.getMessage().contains(basic), e.getMessage());
    }
  }

  @Test
  void retryAfterAsAnHttpDateCountsFromTheServersDateHeader() {
    String date = "Date: Wed, 02 Dec 2026 08:00:00 GMT";
    List<byte[]> answers = List.of(
        RawHttpServer.response(503, "application/json", "{}", date, "Retry-After: Wed, 02 Dec 2026 08:00:09 GMT"),
        RawHttpServer.response(503, "application/json", "{}", date, "Retry-After: Wed, 02 Dec 2026 09:00:00 GMT"),
        RawHttpServer.response(503, "application/json", "{}", date, "Retry-After: Wed, 02 Dec 2026 07:59:00 GMT"),
        RawHttpServer.json("{\"tables\": []}"));
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> out.write(answers.get(n - 1)))) {
      List<Duration> waits = new ArrayList<>();
      try (ExampleClient client = client(server, FAST, waits)) {
        assertEquals(List.of(), client.listTables());
      }
      assertEquals(List.of(Duration.ofSeconds(9), Duration.ofSeconds(60), Duration.ZERO), waits);
    }
  }

  @Test
  void aPageOfHtmlFailsAtOnceSayingWhatCameBackAndWhere() {
    String html = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>" + "x".repeat(500) + "</body></html>";
    try (RawHttpServer server = new RawHttpServer(
        (n, line, out) -> out.write(RawHttpServer.response(200, "text/html; charset=utf-8", html)))) {
      SourceException e;
      try (ExampleClient client = client(server)) {
        e = assertThrows(SourceException.class,
            () -> client.records("users", Map.of("since", "2024-01-01T00:00:00.000000+00:00")));
      }
      assertEquals(1, server.requests().size(), "a complete answer is not retried");
      String m = e.getMessage();
      assertTrue(m.startsWith("GET /tables/users/records?since=2024-01-01T00%3A00%3A00.000000%2B00%3A00 answered HTTP 200"), m);
      assertTrue(m.contains("Content-Type: text/html; charset=utf-8"), m);
      assertTrue(m.contains("the body began: '<!DOCTYPE html>\\n<html><head><title>Sign in</title>"), m);
      assertTrue(m.contains("'..."), "only the first bytes: " + m);
      assertTrue(m.length() < 700, m);
      assertFalse(m.contains(SECRET), m);
      assertFalse(e.isTransient());
    }
  }

  /** Each body was delivered whole (Content-Length matches), so none is retried. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
    "{\"records\": [{\"user_id\": \"a\"}, {\"user_i                  | Unexpected end-of-input",
    "{\"records\": {\"user_id\": \"a\"}, \"next_page\": null}          | 'records' should be an array",
    "{\"records\": [{\"user_id\": \"a\"}, 7], \"next_page\": null}     | records[1] should be an object",
    "{\"records\": [], \"next_page\": \"2\"}                           | 'next_page' should be an integer or null",
    "{\"records\": [], \"next_page\": 2.5}                             | 'next_page' should be an integer or null",
    "{\"records\": []}                                                | the page has no 'next_page'",
    "[]                                                               | the page is not a JSON object",
    "{\"records\": [], \"next_page\": null} {}                         | content after the JSON object",
  })
  void aPageThatIsNotTheApisShapeFailsAtOnceNamingTheProblem(String body, String problem) {
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> out.write(RawHttpServer.json(body)))) {
      SourceException e;
      try (ExampleClient client = client(server)) {
        e = assertThrows(SourceException.class, () -> client.records("users", Map.of("page", "3")));
      }
      assertEquals(1, server.requests().size());
      assertTrue(e.getMessage().startsWith("GET /tables/users/records?page=3 answered HTTP 200"), e.getMessage());
      assertTrue(e.getMessage().contains(problem), e.getMessage());
      assertTrue(e.getMessage().contains("Content-Type: application/json"), e.getMessage());
    }
  }

  /**
   * The contract ends a read at {@code next_page: null}, not at an empty page, but every reader of
   * the connector took an empty page for the end (the records of page 2 were never asked for). A
   * server that filters after paging may send one: the call fails naming it, as nothing is lost.
   */
  @Test
  void anEmptyPageThatIsNotTheLastFailsNamingTheCall() {
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> out.write(RawHttpServer.json(
        line.contains("page=2") ? "{\"records\": [{\"order_id\": \"o1\"}], \"next_page\": null}"
            : "{\"records\": [], \"next_page\": 2}")))) {
      SourceException e;
      try (ExampleClient client = client(server)) {
        e = assertThrows(SourceException.class, () -> client.records("orders", Map.of("status", "shipped")));
      }
      assertEquals(1, server.requests().size(), "a complete answer is not retried");
      assertTrue(e.getMessage().startsWith("GET /tables/orders/records?status=shipped answered an empty page"
          + " that is not the last (next_page 2)"), e.getMessage());
      assertFalse(e.isTransient());
    }
  }

  @Test
  void aDiscoveryAnswerOfTheWrongShapeNamesTheMember() {
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> out.write(RawHttpServer.json("{\"tables\": \"users\"}")));
        ExampleClient client = client(server)) {
      SourceException e = assertThrows(SourceException.class, client::listTables);
      assertTrue(e.getMessage().contains("GET /tables answered HTTP 200"), e.getMessage());
      assertTrue(e.getMessage().contains("'tables' should be array but was string \"users\""), e.getMessage());
    }
  }

  /** Three records, the next page 2: the full body, and the same cut after two records. */
  private static final String PAGE =
      "{\"records\": [{\"k\": 1}, {\"k\": 2}, {\"k\": 3}], \"next_page\": 2}";

  private static void cutAfterTwoRecords(OutputStream out) throws IOException {
    String sent = PAGE.substring(0, PAGE.indexOf("{\"k\": 3}"));
    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + PAGE.length()
        + "\r\nConnection: close\r\n\r\n" + sent).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aBodyCutMidWayIsRetriedAndTheHandlerRestartsThePage() {
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> {
      if (n == 1) {
        cutAfterTwoRecords(out);
      } else {
        out.write(RawHttpServer.json(PAGE));
      }
    })) {
      List<String> seen = new ArrayList<>();
      List<String> retries = new ArrayList<>();
      try (ExampleClient client = ExampleClient.create(
          new SourceConfig(server.baseUrl(), "u", Password.inline("p"), FAST), (path, why) -> retries.add(why), recordingBudget(new ArrayList<>()))) {
        PageEnd end = client.records("users", Map.of(), new ExampleClient.RecordHandler() {
          @Override
          public boolean record(ObjectNode record) {
            return seen.add(record.get("k").asText());
          }

          @Override
          public void restart() {
            seen.add("restart");
          }
        });
        assertEquals(new PageEnd(2, false), end);
      }
      assertEquals(List.of("1", "2", "restart", "1", "2", "3"), seen);
      assertEquals(1, retries.size(), retries.toString());
      assertTrue(retries.get(0).contains("unexpected end of stream"), retries.toString());
    }
  }

  @Test
  void aCollectedPageHoldsEachRecordOnceAfterACut() {
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> {
      if (n == 1) {
        cutAfterTwoRecords(out);
      } else {
        out.write(RawHttpServer.json(PAGE));
      }
    }); ExampleClient client = client(server)) {
      Page page = client.records("users", Map.of());
      assertEquals("[{\"k\":1}, {\"k\":2}, {\"k\":3}]", page.records().toString());
      assertEquals(2, page.nextPage());
      assertEquals(2, server.requests().size());
    }
  }

  /**
   * A string column holding more than Jackson's default limit of 20,000,000 characters (a large
   * event payload) is read as any other value: the page failed as "not the Example API's JSON",
   * blaming base_url, and every later run failed on the same record.
   */
  @Test
  void aStringOfMoreThanTwentyMillionCharactersIsRead() {
    String payload = "p".repeat(20_000_001);
    byte[] page = RawHttpServer.json("{\"records\": [{\"k\": 1, \"payload\": \"" + payload + "\"}], \"next_page\": null}");
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> out.write(page));
        ExampleClient client = client(server)) {
      ObjectNode record = client.records("events", Map.of()).records().get(0);
      assertEquals(20_000_001, record.get("payload").asText().length());
      assertEquals(payload, record.get("payload").asText());
    }
  }

  @Test
  void aHandlerThatStopsEndsThePageThere() {
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> out.write(RawHttpServer.json(PAGE)));
        ExampleClient client = client(server)) {
      List<String> seen = new ArrayList<>();
      PageEnd end = client.records("users", Map.of(), new ExampleClient.RecordHandler() {
        @Override
        public boolean record(ObjectNode record) {
          seen.add(record.get("k").asText());
          return seen.size() < 2;
        }

        @Override
        public void restart() {
          throw new AssertionError("no restart");
        }
      });
      assertEquals(List.of("1", "2"), seen);
      assertTrue(end.stopped());
      assertFalse(end.isLast());
    }
  }

  @Test
  void aMissingDateHeaderIsReportedAsAWarning() {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> out.write(RawHttpServer.json("{\"tables\": []}")));
        ExampleClient client = client(server)) {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      assertNull(client.sourceTime());
    } finally {
      System.setErr(err);
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    assertTrue(log.contains("WARN") && log.contains("sent no valid Date header"), log);
    assertTrue(log.contains("weakens the protection against clock skew"), log);
  }

  @Test
  void theSourcesDateHeaderIsItsTime() {
    try (RawHttpServer server = new RawHttpServer(
            (n, line, out) -> out.write(RawHttpServer.json("{\"tables\": []}", "Date: Wed, 02 Dec 2026 08:00:00 GMT")));
        ExampleClient client = client(server)) {
      assertEquals(Instant.parse("2026-12-02T08:00:00Z"), client.sourceTime());
    }
  }

  private static Duration ms(long millis) {
    return Duration.ofMillis(millis);
  }
}
