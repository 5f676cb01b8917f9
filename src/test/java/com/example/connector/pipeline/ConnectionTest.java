package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.example.connector.ConfigurationException;
import com.example.connector.client.Password;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConnectionTest {
  private static final String SECRET = "s3cr3t-Pa55";

  private static ConfigurationException fails(String json) {
    ConfigurationException e =
        assertThrows(ConfigurationException.class, () -> Connection.parse(json, "conn.json"));
    assertFalse(e.getMessage().contains(SECRET), () -> "secret leaked: " + e.getMessage());
    return e;
  }

  private static void assertMentions(ConfigurationException e, String... parts) {
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), () -> "'" + part + "' not in: " + e.getMessage());
    }
  }

  @Test
  void parsesInlinePasswordAllowListAndBaseUrl() {
    Connection c = Connection.parse("{\"username\": \"u\", \"password\": \"" + SECRET + "\","
        + " \"externalOptionsAllowList\": \" limit, ,status,,\", \"base_url\":"
        + " \"http://localhost:8080\"}", "dir/my_conn.json");
    assertEquals("my_conn", c.name());
    assertEquals("u", c.username());
    assertEquals(SECRET, c.password().reveal());
    assertEquals(List.of("limit", "status"), List.copyOf(c.externalOptionsAllowList()));
    assertEquals(URI.create("http://localhost:8080"), c.baseUrl());
    assertFalse(c.toString().contains(SECRET), c.toString());
    assertTrue(c.toString().contains("redacted"), c.toString());
    assertThrows(UnsupportedOperationException.class,
        () -> c.externalOptionsAllowList().add("x"));
  }

  @Test
  void maxConcurrentRequestsIsAPositiveIntegerDefaulting64() {
    String head = "{\"username\": \"u\", \"password\": \"" + SECRET + "\"";
    assertEquals(64, Connection.parse(head + "}", "conn.json").maxConcurrentRequests());
    assertEquals(3, Connection.parse(head + ", \"max_concurrent_requests\": 3}", "conn.json").maxConcurrentRequests());
    assertMentions(fails(head + ", \"max_concurrent_requests\": 0}"),
        "conn.json", "max_concurrent_requests", "must be a positive integer, found 0", "e.g. 64");
    assertMentions(fails(head + ", \"max_concurrent_requests\": -2}"), "max_concurrent_requests", "found -2");
    assertMentions(fails(head + ", \"max_concurrent_requests\": 2.5}"), "max_concurrent_requests", "found 2.5");
    assertMentions(fails(head + ", \"max_concurrent_requests\": \"8\"}"), "max_concurrent_requests", "found a string");
    assertMentions(fails(head + ", \"max_concurrent_requests\": 9999999999}"), "max_concurrent_requests", "found 9999999999");
  }

  @Test
  void envAndFilePasswordsAndDefaults() {
    // Any variable this JVM has, rather than one (PATH) that a bare environment may lack.
    String variable = System.getenv().entrySet().stream()
        .filter(e -> !e.getValue().isBlank() && e.getKey().matches("[A-Za-z_][A-Za-z0-9_]*"))
        .map(Map.Entry::getKey).sorted().findFirst().orElse(null);
    assumeTrue(variable != null, "the test JVM has no environment variable to read");
    Connection env = Connection.parse("{\"username\": \"u\", \"password_env\": \"" + variable + "\"}", "c");
    assertEquals(Password.fromEnv(variable), env.password());
    assertEquals(System.getenv(variable), env.password().reveal());
    assertEquals(Set.of(), env.externalOptionsAllowList());
    assertNull(env.baseUrl());
    assertTrue(env.toString().contains("embedded"), env.toString());
    Connection file =
        Connection.parse("{\"username\": \"u\", \"password_file\": \"/run/pw\"}", "c");
    assertEquals(Password.fromFile("/run/pw"), file.password());
  }

  @Test
  void passwordSourcesResolveWithoutLeaking(@TempDir Path dir) throws Exception {
    Path pw = dir.resolve("pw.txt");
    Files.writeString(pw, SECRET + "\n");
    assertEquals(SECRET, Password.fromFile(pw.toString()).reveal());
    ConfigurationException noFile = assertThrows(ConfigurationException.class,
        () -> Password.fromFile(dir.resolve("missing").toString()).reveal());
    assertTrue(noFile.getMessage().contains("missing"));
    String unset = "EXAMPLE_CONNECTOR_TEST_UNSET_VARIABLE_42";
    ConfigurationException noEnv =
        assertThrows(ConfigurationException.class, () -> Password.fromEnv(unset).reveal());
    assertTrue(noEnv.getMessage().contains(unset));
    assertFalse(Password.inline(SECRET).toString().contains(SECRET));
  }

  @Test
  void resolveFindsFileInConnectionsDir(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("prod.json"),
        "{\"username\": \"u\", \"password_file\": \"secrets/pw\"}");
    Connection c = Connection.resolve("prod", dir, null);
    assertEquals("prod", c.name());
    // A relative password_file is relative to the connection file's directory.
    assertEquals(Password.fromFile(dir.toAbsolutePath().resolve("secrets/pw").toString()),
        c.password());
  }

  @Test
  void resolvePrefersExplicitFile(@TempDir Path dir) throws Exception {
    Path explicit = dir.resolve("elsewhere.json");
    Files.writeString(explicit, "{\"username\": \"x\", \"password\": \"" + SECRET + "\"}");
    Connection c = Connection.resolve("prod", dir.resolve("nonexistent"), explicit);
    assertEquals("prod", c.name());
    assertEquals("x", c.username());
  }

  @Test
  void resolveMissingFileNamesPathAndOption(@TempDir Path dir) {
    ConfigurationException e = assertThrows(ConfigurationException.class,
        () -> Connection.resolve("prod", dir, null));
    assertMentions(e, "connection 'prod'", dir.resolve("prod.json").toAbsolutePath().toString(),
        "--connection");
    ConfigurationException explicit = assertThrows(ConfigurationException.class,
        () -> Connection.resolve("prod", dir, dir.resolve("x.json")));
    assertMentions(explicit, dir.resolve("x.json").toString(), "--connection", "not found");
    assertMentions(assertThrows(ConfigurationException.class,
        () -> Connection.resolve("../prod", dir, null)), "not a valid connection name");
  }

  @Test
  void shippedConnectionResolves() {
    Connection c = Connection.resolve("my_example_connection", ProjectFiles.pipelines("connections"),
        null);
    assertEquals("example_user", c.username());
    assertEquals("example_password", c.password().reveal());
    assertEquals(Set.of("max_records_per_batch", "limit", "window_seconds", "category",
        "user_id", "status", "start_timestamp"), c.externalOptionsAllowList());
    assertNull(c.baseUrl());
    assertFalse(c.toString().contains("example_password"));
  }

  @Test
  void rejectsBadFields() {
    assertMentions(fails("{\"username\": \"u\", \"password\": \"" + SECRET + "\", \"user\": 1}"),
        "conn.json: (top level): unknown key 'user'", "allowed keys are username, password, password_env,"
            + " password_file, externalOptionsAllowList, base_url");
    assertMentions(fails("{\"password\": \"" + SECRET + "\"}"), "conn.json: username: is missing");
    assertMentions(fails("{\"username\": \"  \", \"password\": \"" + SECRET + "\"}"),
        "username: is empty");
    assertMentions(fails("{\"username\": \"u\"}"), "password: no password is given",
        "password_env", "password_file");
    assertMentions(fails("{\"username\": \"u\", \"password\": \"" + SECRET + "\","
        + " \"password_env\": \"X\"}"), "more than one password form", "give exactly one");
    assertMentions(fails("{\"username\": \"u\", \"password\": \" \"}"), "password: is empty");
    assertMentions(fails("{\"username\": \"u\", \"password\": 12345}"),
        "password: must be a string");
    assertMentions(fails("{\"username\": \"u\", \"password_env\": \"\"}"),
        "password_env: is empty");
    assertMentions(fails("{\"username\": \"u\", \"password\": \"" + SECRET + "\","
        + " \"externalOptionsAllowList\": [\"limit\"]}"),
        "externalOptionsAllowList: must be a string", "comma-separated");
  }

  @Test
  void rejectsBadBaseUrl() {
    String head = "{\"username\": \"u\", \"password\": \"" + SECRET + "\", \"base_url\": ";
    assertMentions(fails(head + "\"ftp://host\"}"), "base_url: 'ftp://host' is not an absolute"
        + " http or https URL", "remove base_url");
    assertMentions(fails(head + "\"localhost:8080\"}"), "base_url:");
    assertMentions(fails(head + "\"/relative\"}"), "base_url:");
    assertMentions(fails(head + "\"http://a b\"}"), "base_url: is not a valid URL");
    ConfigurationException e = fails(head + "\"http://u:" + SECRET + "@host\"}");
    assertMentions(e, "base_url: must not contain user information");
    assertEquals(URI.create("https://example.com/api"),
        Connection.parse(head + "\"https://example.com/api\"}", "c").baseUrl());
  }

  /**
   * A host name with '_' (a Docker service name, e.g. example_source) is a host to the HTTP client
   * that calls it, though java.net.URI reads none: accepted, and not taken for loopback by the
   * remote runners' check.
   */
  @Test
  void acceptsAHostNameWithAnUnderscore() {
    String head = "{\"username\": \"u\", \"password\": \"" + SECRET + "\", \"base_url\": ";
    Connection c = Connection.parse(head + "\"http://example_source:8080\"}", "c");
    assertEquals(URI.create("http://example_source:8080"), c.baseUrl());
    assertMentions(fails(head + "\"http://u:" + SECRET + "@example_source:8080\"}"),
        "base_url: must not contain user information");
    IngestOptions remote = org.apache.beam.sdk.options.PipelineOptionsFactory.fromArgs(
        "--runner=FlinkRunner", "--flinkMaster=flink-jobmanager.example:8081").as(IngestOptions.class);
    assertDoesNotThrow(() -> RunnerChecks.checkSourceReachableFromWorkers(remote, c));
  }

  @Test
  void malformedJsonGivesLineAndColumnButNeverQuotesTheFile() {
    ConfigurationException e = fails("{\n  \"username\": \"u\",\n  \"password\": " + SECRET
        + "\n}");
    assertMentions(e, "conn.json: malformed JSON at line 3, column");
  }
}
