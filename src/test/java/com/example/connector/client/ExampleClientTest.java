package com.example.connector.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The client against the real simulated source: auth errors, retries, other 4xx. */
class ExampleClientTest {
  private static final RetryPolicy FAST = new RetryPolicy(5, Duration.ofMillis(1), Duration.ofMillis(2));

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
}
