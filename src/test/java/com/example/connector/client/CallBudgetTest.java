package com.example.connector.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.client.CallBudget.Outcome;
import com.example.source.ExampleSource;
import com.example.testing.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The call budget of a connection: its AIMD limit by hand, a {@code Retry-After} holding every
 * call, and several clients of one connection against the rate-limited simulated source, on a
 * clock that moves only when a call waits.
 */
class CallBudgetTest {
  private static final Instant BASE = Instant.parse("2024-01-01T00:00:00Z"); // the seed's base time
  private static final Instant NOW = Instant.parse("2025-06-01T00:00:00Z");
  /** Enough attempts that a call outlasts any run of 429s; the 429s' Retry-After sets the waits. */
  private static final RetryPolicy PATIENT = new RetryPolicy(100, Duration.ofMillis(1), Duration.ofMillis(1));
  private static final ExampleClient.RetryListener QUIET = (path, why) -> {};

  private static void call(CallBudget budget, Outcome outcome) {
    budget.acquire("/tables", QUIET);
    budget.release(outcome);
  }

  /** The limit after each call of {@code outcomes}, starting from {@code budget}'s. */
  private static List<Integer> limits(CallBudget budget, Outcome... outcomes) {
    List<Integer> limits = new ArrayList<>();
    for (Outcome outcome : outcomes) {
      call(budget, outcome);
      limits.add(budget.limit());
    }
    return limits;
  }

  private static CallBudget budget(int max, TestClock clock, List<Duration> waits) {
    return new CallBudget(max, clock, d -> {
      waits.add(d);
      clock.advance(d);
    });
  }

  @Test
  void theLimitHalvesOnA429Or503NotBelowOneAndGrowsByOneAfterAsManySuccessesAsTheLimit() {
    CallBudget budget = budget(8, TestClock.frozenAt(NOW), new ArrayList<>());
    Outcome ok = Outcome.SUCCESS;
    Outcome throttled = Outcome.THROTTLED;
    Outcome other = Outcome.OTHER;
    assertEquals(8, budget.limit());
    assertEquals(List.of(4, 2, 1, 1), limits(budget, throttled, throttled, throttled, throttled));
    // 1 success at 1 -> 2; 2 at 2 -> 3; 3 at 3 -> 4; a 500 or a cut connection changes nothing
    assertEquals(List.of(2, 2, 3, 3, 3, 3, 4), limits(budget, ok, ok, ok, ok, other, ok, ok));
    // a 429 at 4 with 3 successes since the change: -> 2, and the count starts again
    assertEquals(List.of(4, 4, 4, 2, 2, 3), limits(budget, ok, ok, ok, throttled, ok, ok));
    // 3 -> 4 -> ... -> 8 takes 3 + 4 + 5 + 6 + 7 successes, and 8 stays the maximum
    Outcome[] toMax = Collections.nCopies(3 + 4 + 5 + 6 + 7 + 9, ok).toArray(Outcome[]::new);
    List<Integer> growth = limits(budget, toMax);
    assertEquals(List.of(3, 3, 4), growth.subList(0, 3));
    assertEquals(List.of(4, 4, 4, 5), growth.subList(3, 7));
    assertEquals(List.of(7, 7, 7, 7, 7, 7, 8), growth.subList(18, 25));
    assertEquals(Collections.nCopies(9, 8), growth.subList(25, 34));
  }

  @Test
  void aRetryAfterHoldsEveryCallOfTheConnectionUntilItEnds() {
    TestClock clock = TestClock.frozenAt(NOW);
    List<Duration> waits = new ArrayList<>();
    CallBudget budget = budget(8, clock, waits);
    List<Instant> holds = new ArrayList<>();
    ExampleClient.RetryListener listener = new ExampleClient.RetryListener() {
      @Override
      public void onRetry(String path, String reason) {}

      @Override
      public void onHold(String path, Instant until) {
        holds.add(until);
      }
    };
    budget.hold("/tables", Duration.ofSeconds(7), listener);
    budget.hold("/tables", Duration.ofSeconds(3), listener); // a shorter one does not end it early
    assertEquals(List.of(NOW.plusSeconds(7), NOW.plusSeconds(7)), holds);

    assertTrue(budget.acquire("/other", QUIET).held(), "a call that did not get the Retry-After waits too");
    assertEquals(List.of(Duration.ofSeconds(7)), waits);
    assertEquals(NOW.plusSeconds(7), clock.instant());
    budget.release(Outcome.SUCCESS);
    assertFalse(budget.acquire("/other", QUIET).held(), "once it ended, calls go at once");
    assertEquals(List.of(Duration.ofSeconds(7)), waits);
  }

  /**
   * This machine's clock set back an hour under a Retry-After (an NTP step, a VM restored from a
   * snapshot): the hold is time the source asked for, at most a minute, not until the clock is
   * back where it was. Every call of the connection in the JVM waited an hour and 30 s.
   */
  @Test
  void aClockSetBackUnderARetryAfterHoldsCallsNoLongerThanTheLongestRetryAfter() {
    TestClock clock = TestClock.frozenAt(NOW);
    List<Duration> waits = new ArrayList<>();
    CallBudget budget = budget(8, clock, waits);
    budget.hold("/tables", Duration.ofSeconds(30), QUIET);
    clock.advance(Duration.ofHours(-1));

    assertTrue(budget.acquire("/tables", QUIET).held());
    assertEquals(List.of(Duration.ofSeconds(60)), waits);
    budget.release(Outcome.SUCCESS);
    assertFalse(budget.acquire("/tables", QUIET).held(), "the hold ended with that wait");
    assertEquals(List.of(Duration.ofSeconds(60)), waits);
  }

  /** What the clients tell: their events in the order the budget admits them, and counts. */
  private static final class Events implements ExampleClient.RetryListener {
    private final TestClock clock;
    private final List<Object> log = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger retries = new AtomicInteger();
    private final AtomicInteger throttled = new AtomicInteger();

    private record Start(Instant at, int inFlight) {}

    private record Hold(Instant until) {}

    Events(TestClock clock) {
      this.clock = clock;
    }

    @Override
    public void onRetry(String path, String reason) {
      assertTrue(reason.startsWith("HTTP 429: rate limit exceeded"), reason);
      retries.incrementAndGet();
    }

    @Override
    public void onCallStarted(String path, int inFlight) {
      log.add(new Start(clock.instant(), inFlight));
    }

    @Override
    public void onThrottled(String path) {
      throttled.incrementAndGet();
    }

    @Override
    public void onHold(String path, Instant until) {
      log.add(new Hold(until));
    }
  }

  @Test
  void clientsOfOneConnectionAgainstARateLimitGetEveryPageAndNoCallGoesBeforeARetryAfterEnds() throws Exception {
    TestClock clock = TestClock.frozenAt(NOW);
    int clients = 6;
    int pages = 8; // users: 120 rows of 15 a page
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).rateLimit(5).clock(clock)
        .baseTime(BASE).rows("users", 120).start()) {
      AtomicInteger requests = new AtomicInteger();
      source.setRequestListener((method, path, query) -> requests.incrementAndGet());
      CallBudget budget = new CallBudget(4, clock, clock::advance); // time passes only by waiting
      Events events = new Events(clock);
      SourceConfig config = new SourceConfig(source.baseUrl(), "u", Password.inline("p"), PATIENT, 4);
      ExecutorService pool = Executors.newFixedThreadPool(clients);
      try {
        List<Future<List<String>>> reads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
          reads.add(pool.submit(() -> readAllUsers(ExampleClient.create(config, events, budget))));
        }
        for (Future<List<String>> read : reads) {
          List<String> ids = read.get();
          assertEquals(120, ids.size());
          assertEquals(120, ids.stream().distinct().count());
        }
      } finally {
        pool.shutdownNow();
      }

      int calls = clients * pages;
      List<Object> log = List.copyOf(events.log);
      List<Events.Start> starts = log.stream().filter(Events.Start.class::isInstance).map(Events.Start.class::cast).toList();
      assertEquals(requests.get(), starts.size(), "every request passed the budget");
      assertEquals(requests.get() - calls, events.retries.get(), "every request beyond the pages was a 429, retried");
      assertTrue(events.retries.get() > 0, "the rate limit was reached");
      assertTrue(events.throttled.get() >= events.retries.get(), "each 429 is counted as throttled");
      assertTrue(starts.stream().allMatch(s -> s.inFlight() >= 1 && s.inFlight() <= 4), starts.toString());
      assertNoStartBeforeAHoldEnds(log);
    }
  }

  private static void assertNoStartBeforeAHoldEnds(List<Object> log) {
    Instant holdUntil = Instant.EPOCH;
    for (Object event : log) {
      if (event instanceof Events.Hold hold) {
        holdUntil = hold.until();
      } else if (event instanceof Events.Start start) {
        assertFalse(start.at().isBefore(holdUntil), "a call started at " + start.at() + ", before " + holdUntil);
      }
    }
  }

  private static List<String> readAllUsers(ExampleClient client) {
    try (client) {
      List<String> ids = new ArrayList<>();
      for (Integer page = 1; page != null; ) {
        Page p = client.records("users", Map.of("page", page.toString()));
        p.records().forEach(r -> ids.add(r.get("user_id").asText()));
        page = p.nextPage();
      }
      return ids;
    }
  }
}
