package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.table.CatalogConfig;
import com.example.source.ExampleSource;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;
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
    assertRefusedWith(h, spec, List.of("--retryMaxAttempts=2"), fragments);
  }

  private void assertRefusedWith(IngestHarness h, Path spec, List<String> args, String... fragments) {
    IngestMain.Outcome outcome = h.run(spec, args.toArray(String[]::new));
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

  /**
   * An SCD type 1 table's keys are its Iceberg identifier fields, which Iceberg refuses to be a
   * double: the run failed as a run (exit 1) with Iceberg's message, naming neither the table nor
   * the option.
   */
  @Test
  void aType1TableKeyedByADoubleIsRefusedNamingTheOption() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    assertRefused(h, h.spec("p.json", "\"source_table\": \"products\", \"table_configuration\":"
        + " {\"primary_keys\": [\"price\"]}"), "table 'products' (object[0]): table_configuration.primary_keys:",
        "'price' is a double column", "scd_type SCD_TYPE_2");
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

  /** Exit 1, not 2: the configuration may be right and the source down; nothing is written. */
  private void assertSourceFailure(IngestHarness h, String... fragments) {
    IngestMain.Outcome outcome = h.run(h.spec("s.json", "\"source_table\": \"users\""), "--retryMaxAttempts=1");
    assertEquals(1, outcome.exitCode(), h.lastOut + h.lastErr);
    for (String f : fragments) {
      assertTrue(h.lastErr.contains(f), "expected '" + f + "' in: " + h.lastErr);
    }
    assertFalse(Files.exists(h.output), "nothing may be written");
  }

  @Test
  void unreachableSourceIsExit1NamingBaseUrl() throws Exception {
    // A socket bound but not listening holds the port, so the connection is refused for sure.
    try (Socket held = new Socket()) {
      held.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      String url = "http://127.0.0.1:" + held.getLocalPort();
      assertSourceFailure(new IngestHarness(dir, url),
          "the source cannot be reached at base_url " + url, "could not reach the source", "run again later");
    }
  }

  @Test
  void aFailingSourceIsExit1AndRetriable() throws Exception {
    try (Answering server = new Answering(503)) {
      assertSourceFailure(new IngestHarness(dir, server.url()),
          "the source at " + server.url() + " is failing", "HTTP 503", "--retryMaxAttempts");
    }
  }

  @Test
  void aRefusalThatConfigurationCausesIsExit2() throws Exception {
    try (Answering server = new Answering(404)) {
      IngestHarness h = new IngestHarness(dir, server.url());
      assertRefused(h, h.spec("s.json", "\"source_table\": \"users\""), "HTTP 404",
          "check the connection's base_url (" + server.url() + ")");
    }
  }

  /** A real HTTP server that answers every request with one status. */
  private static final class Answering implements AutoCloseable {
    private final HttpServer server;

    Answering(int status) throws IOException {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      server.createContext("/", exchange -> {
        byte[] body = ("{\"error\": \"status " + status + "\"}").getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
      });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
      server.stop(0);
    }
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
    long before = h.table("users").currentSnapshot().snapshotId();
    IngestMain.Outcome outcome = h.run(h.spec("s2.json",
        "\"source_table\": \"users\", \"table_configuration\": {\"scd_type\": \"SCD_TYPE_2\"}"));
    assertEquals(2, outcome.exitCode(), h.lastOut + h.lastErr);
    for (String f : List.of("main.example.users was built with SCD_TYPE_1, primary_keys [user_id], sequence_by updated_at",
        "now asks for SCD_TYPE_2", "rebuild it from scratch by dropping main.example.users")) {
      assertTrue(h.lastErr.contains(f), "expected '" + f + "' in: " + h.lastErr);
    }
    assertEquals(before, h.table("users").currentSnapshot().snapshotId(), "the table is untouched");
  }

  /**
   * A table read by cursor keeps the source filters it was read with: the rows outside them are
   * below its cursors, and a run without the filter (pipelines/filtered_ingest.json, then
   * example_ingest.json, which land on the same tables) would never read them.
   */
  @Test
  void aTableReadByCursorKeepsTheFiltersItWasReadWith() throws Exception {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    Path shipped = h.spec("s.json", "\"source_table\": \"orders\", \"table_configuration\": {\"status\": \"shipped\"}");
    h.runOk(shipped);
    long before = h.table("orders").currentSnapshot().snapshotId();
    IngestMain.Outcome outcome = h.run(h.spec("all.json", "\"source_table\": \"orders\""));
    assertEquals(2, outcome.exitCode(), h.lastOut + h.lastErr);
    for (String f : List.of("main.example.orders was read with the filters {\"status\":\"shipped\"}, but the spec now"
        + " asks for {}", "rebuild it from scratch by dropping main.example.orders and main.example.orders__changes")) {
      assertTrue(h.lastErr.contains(f), "expected '" + f + "' in: " + h.lastErr);
    }
    assertEquals(before, h.table("orders").currentSnapshot().snapshotId(), "the table is untouched");
    h.runOk(shipped); // the same filters again
  }

  /** The files a run is pointed at, missing or empty: refused naming the file and what to do. */
  @Test
  void missingOrEmptyFilesAreRefusedNamingThem() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    Path spec = h.spec("s.json", "\"source_table\": \"users\"");
    assertRefused(h, dir.resolve("nowhere.json"), "nowhere.json: pipeline spec file not found; check the path");
    assertRefused(h, h.write("empty.json", ""), "empty.json: the file is empty; write a JSON object");
    assertRefusedWith(h, spec, List.of("--connection=" + dir.resolve("none.json")),
        "none.json: connection file given with --connection not found; check the path");
    assertRefusedWith(h, spec, List.of("--runnerConfig"), "--runnerConfig needs a value: write --runnerConfig=PATH");
    assertRefusedWith(h, spec, List.of("--runnerConfig=" + dir.resolve("no-runner")),
        "no-runner: cannot read the runner config given with --runnerConfig");

    ByteArrayOutputStream err = new ByteArrayOutputStream();
    IngestMain.Outcome noSpec = IngestMain.run(new String[] {"--runner=DirectRunner"},
        new PrintStream(OutputStream.nullOutputStream()), new PrintStream(err, true));
    assertEquals(2, noSpec.exitCode());
    assertTrue(err.toString(StandardCharsets.UTF_8).contains(
        "--spec is required: the pipeline spec (its tables and connection), e.g. --spec=pipelines/example_ingest.json"), err::toString);
  }

  /**
   * A destination that is another tool's Iceberg table, or this connector's table of another
   * source table: the run exits 2 naming it and what to do, and leaves it as it was.
   */
  @Test
  void aDestinationTableOfAnotherToolOrSourceTableIsRefused() throws Exception {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    Schema theirs = new Schema(Types.NestedField.required(1, "id", Types.StringType.get()));
    CatalogConfig.hadoop(h.output.toString()).load().createTable(TableIdentifier.of("main", "example", "events"), theirs);
    IngestMain.Outcome outcome = h.run(h.spec("e.json", "\"source_table\": \"events\""));
    assertEquals(2, outcome.exitCode(), h.lastOut + h.lastErr);
    assertTrue(h.lastErr.contains("main.example.events is an Iceberg table this connector did not create (it has no"
        + " example.source-table property); choose another destination_table"), h.lastErr);
    assertEquals(theirs.asStruct(), h.table("events").schema().asStruct(), "its schema untouched");
    assertNull(h.table("events").currentSnapshot(), "nothing committed to it");

    h.runOk(h.spec("u.json", "\"source_table\": \"users\", \"destination_table\": \"people\""));
    long before = h.table("people").currentSnapshot().snapshotId();
    outcome = h.run(h.spec("o.json", "\"source_table\": \"orders\", \"destination_table\": \"people\""));
    assertEquals(2, outcome.exitCode(), h.lastOut + h.lastErr);
    assertTrue(h.lastErr.contains("main.example.people holds table 'users', not 'orders'; choose another"
        + " destination_table"), h.lastErr);
    assertEquals(before, h.table("people").currentSnapshot().snapshotId(), "the table is untouched");
  }

  /**
   * A destination whose table was dropped but whose change feed is another source table's: the
   * run exits 2 naming the feed, rather than appending to that feed (and dropping from it every
   * row below the other table's cursor as if the feed held it already).
   */
  @Test
  void aChangeFeedLeftByAnotherSourceTableIsRefused() throws Exception {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    h.runOk(h.spec("u.json", "\"source_table\": \"users\", \"destination_table\": \"people\""));
    CatalogConfig.hadoop(h.output.toString()).load().dropTable(TableIdentifier.of("main", "example", "people"), true);
    long feedBefore = h.table("people__changes").currentSnapshot().snapshotId();
    IngestMain.Outcome outcome = h.run(h.spec("o.json", "\"source_table\": \"orders\", \"destination_table\": \"people\""));
    assertEquals(2, outcome.exitCode(), h.lastOut + h.lastErr);
    assertTrue(h.lastErr.contains("main.example.people__changes holds table 'users', not 'orders'; choose another"
        + " destination_table"), h.lastErr);
    assertEquals(feedBefore, h.table("people__changes").currentSnapshot().snapshotId(), "the feed is untouched");
    assertNull(h.table("people"), "no table created");
  }

  @Test
  void destinationNamesThatCannotMapOneToOneAreRefused() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    // Would land in <root>/_staging/..., which the next run's recovery deletes as staged files.
    assertRefused(h, h.spec("s.json", "\"source_table\": \"users\", \"destination_catalog\": \"_staging\""),
        "table 'users' (object[0]): destination_catalog: '_staging' is not a valid destination name",
        "only letters, digits, '_' and '-', starting with a letter or digit", "use e.g. 'staging'");
    // a.b/c/events and a/b.c/events would share the state file a.b.c.events.json.
    assertRefused(h, h.spec("s.json", "\"source_table\": \"events\", \"destination_catalog\": \"a.b\","
        + " \"destination_schema\": \"c\""), "destination_catalog: 'a.b' is not a valid destination name", "'a_b'");
    assertRefused(h, h.spec("s.json", "\"source_table\": \"events\", \"destination_catalog\": \"a\","
        + " \"destination_schema\": \"b.c\""), "destination_schema: 'b.c' is not a valid destination name");
    assertRefused(h, h.spec("s.json", "\"source_table\": \"events\", \"destination_table\": \"_changes\""),
        "destination_table: '_changes'");
    // Names that differ only in case are one destination: this one is orders' change feed.
    assertRefused(h, h.spec("s.json", "\"source_table\": \"users\", \"destination_table\": \"orders__Changes\""),
        "destination_table: 'orders__Changes' ends with '__changes', which names the change feed of an SCD table");
    assertRefusedWith(h, h.spec("s.json", "\"source_table\": \"users\""), List.of("--defaultCatalog=_state"),
        "--defaultCatalog: '_state' is not a valid destination name");
    assertRefusedWith(h, h.spec("s.json", "\"source_table\": \"users\""), List.of("--defaultSchema=a.b"),
        "--defaultSchema: 'a.b' is not a valid destination name");
  }

  @Test
  void destinationsDifferingOnlyInCaseAreOneDestination() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    assertRefused(h, h.spec("s.json", "\"source_table\": \"users\"",
        "\"source_table\": \"orders\", \"destination_table\": \"Users\""),
        "table 'orders' (object[1]): lands on main.example.Users, as does", "differ only in case");
  }

  @Test
  void pipelineOptionsAreCheckedByName() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    Path spec = h.spec("s.json", "\"source_table\": \"users\"");
    assertRefusedWith(h, spec, List.of("--retryMaxAttempts=0"), "--retryMaxAttempts=0: must be at least 1");
    assertRefusedWith(h, spec, List.of("--retryInitialBackoffMillis=-1"),
        "--retryInitialBackoffMillis=-1: must be from 0 to 3600000");
    assertRefusedWith(h, spec, List.of("--progressIntervalSeconds=-5"), "--progressIntervalSeconds=-5: must be at least 0");
    assertRefusedWith(h, spec, List.of("--retryMaxAttempts=many"), "pipeline options:", "many");
  }

  /**
   * A pre-flight timeout of 0 or less would fail the check of a gs:// bucket at once, blaming the
   * bucket, the network or the credentials: the option itself is the error.
   */
  @Test
  void aPreflightTimeoutBelowOneSecondIsRefusedByName() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    Path spec = h.spec("s.json", "\"source_table\": \"users\"");
    long requests = source.requestCount();
    assertRefusedWith(h, spec, List.of("--preflightTimeoutSeconds=0"), "--preflightTimeoutSeconds=0: must be at least 1");
    assertRefusedWith(h, spec, List.of("--preflightTimeoutSeconds=-5"), "--preflightTimeoutSeconds=-5: must be at least 1");
    assertEquals(requests, source.requestCount(), "refused before the source was asked anything");
  }

  @Test
  void anUnusableOutputRootIsRefusedBeforeAnyRequest() throws Exception {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    Path spec = h.spec("s.json", "\"source_table\": \"users\"");
    Path file = h.write("a-file", "x");
    long requests = source.requestCount();
    for (String[] bad : List.of(
        new String[] {file.toString(), "is a file, not a directory"},
        new String[] {file.resolve("sub/dir").toString(), "is under " + file + ", which is a file"},
        new String[] {"/proc/connector-output", "cannot be written"})) {
      IngestMain.Outcome outcome = h.run(spec, "--outputRoot=" + bad[0]);
      assertEquals(2, outcome.exitCode(), h.lastOut + h.lastErr);
      assertTrue(h.lastErr.contains("--outputRoot=" + bad[0] + ": " + bad[1]), h.lastErr);
    }
    assertEquals(requests, source.requestCount(), "refused before the source was asked anything");
    assertEquals("x", Files.readString(file));
  }

  @Test
  void theOutputRootCheckLeavesNothingBehind() {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    Path root = dir.resolve("x/y/z");
    // Refused after the output root was probed: the table is checked against the source.
    IngestMain.Outcome outcome = h.run(h.spec("s.json", "\"source_table\": \"customers\""), "--outputRoot=" + root);
    assertEquals(2, outcome.exitCode(), h.lastOut + h.lastErr);
    assertTrue(h.lastErr.contains("source_table 'customers'"), h.lastErr);
    assertFalse(Files.exists(dir.resolve("x")), "the probe removes the directories it created");
  }

  @Test
  void aCorruptCursorIsExit1NamingTheTableAndSnapshot() throws Exception {
    IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
    Path spec = h.spec("s.json", "\"source_table\": \"users\"");
    h.runOk(spec);
    // A snapshot whose summary holds a cursor that is not a time (another tool wrote it).
    h.table("users").newAppend().set("example.cursor.records", "not a time").commit();
    long corrupt = h.table("users").currentSnapshot().snapshotId();
    IngestMain.Outcome outcome = h.run(spec);
    assertEquals(1, outcome.exitCode(), h.lastOut + h.lastErr);
    assertTrue(h.lastErr.contains("main.example.users: the cursors in the summary of snapshot " + corrupt
        + " are unreadable"), h.lastErr);
    assertTrue(h.lastErr.contains("'not a time' is not an ISO-8601 timestamp"), h.lastErr);
    assertTrue(h.lastErr.contains("this run read and committed nothing"), h.lastErr);
    assertEquals(corrupt, h.table("users").currentSnapshot().snapshotId());
  }
}
