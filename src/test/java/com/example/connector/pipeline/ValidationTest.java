package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input is refused before any data moves: exit code 2, a message that says what to fix. */
class ValidationTest {
  static ExampleSource source;
  @TempDir Path dir;

  @BeforeAll
  static void start() {
    source = ExampleSource.builder().port(0).errorRate(0).start();
  }

  @AfterAll
  static void stop() {
    source.close();
  }

  private void assertRefused(IngestHarness h, Path spec, String... fragments) {
    IngestMain.Outcome outcome = h.run(spec, "--retryMaxAttempts=2");
    assertEquals(2, outcome.exitCode(), h.lastOut + h.lastErr);
    for (String f : fragments) {
      assertTrue(h.lastErr.contains(f), "expected '" + f + "' in: " + h.lastErr);
    }
    assertFalse(h.lastErr.contains("s3cret-pw") || h.lastOut.contains("s3cret-pw"), "password leaked");
    assertFalse(Files.exists(h.output), "nothing may be written");
  }

  @Test
  void unknownTableListsTheSupportedOnes() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    assertRefused(h, h.spec("s.json", "\"source_table\": \"customers\""),
        "source_table 'customers'", "products, events, users, orders, metrics");
  }

  @Test
  void optionOnTheWrongTableOrNotNumericIsRefused() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    assertRefused(h, h.spec("a.json", "\"source_table\": \"users\", \"table_configuration\": {\"limit\": \"5\"}"), "limit");
    assertRefused(h, h.spec("b.json", "\"source_table\": \"users\", \"table_configuration\": {\"max_records_per_batch\": \"-3\"}"),
        "max_records_per_batch");
    assertRefused(h, h.spec("c.json", "\"source_table\": \"events\", \"table_configuration\": {\"scd_type\": \"SCD_TYPE_2\"}"),
        "scd_type");
  }

  @Test
  void optionOutsideTheAllowListNamesTheFix() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    h.write("connections/test_connection.json",
        "{\"username\": \"u\", \"password\": \"s3cret-pw\", \"base_url\": \"" + source.baseUrl() + "\", \"externalOptionsAllowList\": \"limit\"}");
    assertRefused(h, h.spec("s.json", "\"source_table\": \"orders\", \"table_configuration\": {\"status\": \"shipped\"}"),
        "externalOptionsAllowList");
  }

  @Test
  void malformedSpecGivesLineAndColumn() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    assertRefused(h, h.write("bad.json", "{\"pipeline_spec\": {\n  \"connection_name\": \"test_connection\",,\n}}"), "line 2");
  }

  @Test
  void missingConnectionNamesWhereItLooked() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    assertRefused(h, h.write("s.json", "{\"pipeline_spec\": {\"connection_name\": \"nope\", \"object\": [{\"table\": {\"source_table\": \"users\"}}]}}"),
        "nope.json");
  }

  @Test
  void unreachableSourceIsAClearError() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    IngestHarness h = new IngestHarness(dir, "http://127.0.0.1:" + closedPort);
    assertRefused(h, h.spec("s.json", "\"source_table\": \"users\""), "could not reach the source");
  }

  @Test
  void duplicateDestinationsAreRefused() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    assertRefused(h, h.spec("s.json", "\"source_table\": \"users\"",
        "\"source_table\": \"orders\", \"destination_table\": \"users\""), "users");
  }

  @Test
  void missingPasswordVariableIsAConfigurationError() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    h.write("connections/test_connection.json",
        "{\"username\": \"u\", \"password_env\": \"EXAMPLE_TEST_UNSET_VARIABLE_42\", \"base_url\": \"" + source.baseUrl() + "\"}");
    assertRefused(h, h.spec("s.json", "\"source_table\": \"users\""), "EXAMPLE_TEST_UNSET_VARIABLE_42");
  }

  @Test
  void aTableKeepsTheScdSettingsItWasBuiltWith() throws Exception {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    h.runOk(h.spec("s.json", "\"source_table\": \"users\""));
    Path state = h.output.resolve("_state/main.example.users.json");
    String before = Files.readString(state);
    IngestMain.Outcome outcome = h.run(h.spec("s2.json",
        "\"source_table\": \"users\", \"table_configuration\": {\"scd_type\": \"SCD_TYPE_2\"}"));
    assertEquals(2, outcome.exitCode(), h.lastOut + h.lastErr);
    for (String f : List.of("main.example.users was built with SCD_TYPE_1, primary_keys [user_id], sequence_by updated_at",
        "now asks for SCD_TYPE_2", "deleting " + h.tableDir("users") + "/")) {
      assertTrue(h.lastErr.contains(f), "expected '" + f + "' in: " + h.lastErr);
    }
    assertEquals(before, Files.readString(state), "the table is untouched");
  }
}
