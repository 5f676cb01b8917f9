package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import com.example.connector.Json;
import com.example.connector.client.Password;
import com.example.connector.client.SourceConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import okhttp3.HttpUrl;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A connection file: credentials for the Example source, the allowlist of source-specific table
 * options, and optionally the source's base URL (absent: the pipeline starts an embedded
 * simulated source), and {@code max_concurrent_requests}, the calls one JVM may have in flight
 * for the connection (default {@link SourceConfig#DEFAULT_MAX_CONCURRENT_REQUESTS}, see there
 * why). No message and no {@link #toString()} ever contains the password.
 */
public record Connection(
    String name,
    String username,
    Password password,
    Set<String> externalOptionsAllowList,
    @Nullable URI baseUrl,
    int maxConcurrentRequests) {

  private static final Set<String> KEYS =
      Collections.unmodifiableSet(new LinkedHashSet<>(List.of("username", "password",
          "password_env", "password_file", "externalOptionsAllowList", "base_url",
          "max_concurrent_requests")));

  public Connection {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    externalOptionsAllowList =
        Collections.unmodifiableSet(new LinkedHashSet<>(externalOptionsAllowList));
  }

  /**
   * Resolves connection {@code name}: {@code explicitFile} if non-null, else {@code
   * <connectionsDir>/<name>.json}. A relative {@code password_file} is taken relative to the
   * connection file's directory.
   */
  public static Connection resolve(String name, Path connectionsDir, @Nullable Path explicitFile) {
    Path file;
    if (explicitFile != null) {
      file = explicitFile;
      if (!Files.isRegularFile(file)) {
        throw new ConfigurationException(
            file + ": connection file given with --connection not found; check the path");
      }
    } else {
      if (!PipelineSpec.CONNECTION_NAME.matcher(name).matches()) {
        throw new ConfigurationException(
            "connection '" + name + "' is not a valid connection name; use letters, digits,"
                + " '_', '-' and '.' only, or pass the file with --connection=<file>");
      }
      file = connectionsDir.resolve(name + ".json");
      if (!Files.isRegularFile(file)) {
        throw new ConfigurationException(
            "connection '" + name + "': no connection file at " + file.toAbsolutePath()
                + "; create it (see the README's connection file format) or pass"
                + " --connection=<file>");
      }
    }
    String json;
    try {
      json = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigurationException(
          file + ": cannot read the connection file (" + e.getClass().getSimpleName()
              + "); check that it is a readable UTF-8 file");
    }
    Path dir = file.toAbsolutePath().getParent();
    return parse(json, file.toString(), name, dir);
  }

  /**
   * Parses a connection file's JSON. The connection's name is {@code sourceName}'s file name
   * without a {@code .json} extension; {@code sourceName} starts every message.
   */
  public static Connection parse(String json, String sourceName) {
    String base = sourceName;
    int slash = Math.max(base.lastIndexOf('/'), base.lastIndexOf('\\'));
    base = base.substring(slash + 1);
    if (base.endsWith(".json")) {
      base = base.substring(0, base.length() - ".json".length());
    }
    return parse(json, sourceName, base, null);
  }

  private static Connection parse(
      String json, String src, String name, @Nullable Path baseDir) {
    // Never let Jackson explain a syntax error here: its message may quote the password.
    ObjectNode root = Json.object(Json.read(json, src, false), src, "(top level)");
    Json.onlyKeys(root, src, "", KEYS);

    String username = Json.requiredString(root, src, "", "username");

    List<String> given = new ArrayList<>();
    for (String key : List.of("password", "password_env", "password_file")) {
      if (root.has(key)) {
        given.add(key);
      }
    }
    if (given.size() != 1) {
      throw Json.error(src, "password",
          given.isEmpty() ? "no password is given" : "more than one password form is given ("
              + String.join(", ", given) + ")",
          "give exactly one of \"password\" (inline), \"password_env\" (environment variable"
              + " name) or \"password_file\" (path of a file holding it)");
    }
    String form = given.get(0);
    String value = Json.requiredString(root, src, "", form); // never echoes the value
    Password password;
    switch (form) {
      case "password":
        password = Password.inline(value);
        break;
      case "password_env":
        password = Password.fromEnv(value.strip());
        break;
      default:
        Path path = Path.of(value.strip());
        if (baseDir != null && !path.isAbsolute()) {
          path = baseDir.resolve(path).normalize();
        }
        password = Password.fromFile(path.toString());
    }

    Set<String> allowList = new LinkedHashSet<>();
    String list = optionalStringAllowEmpty(root, src, "externalOptionsAllowList");
    if (list != null) {
      for (String option : list.split(",")) {
        if (!option.isBlank()) {
          allowList.add(option.strip());
        }
      }
    }

    URI baseUrl = null;
    String url = Json.optionalString(root, src, "", "base_url");
    if (url != null) {
      baseUrl = baseUrl(url.strip(), src);
    }
    return new Connection(name, username, password, allowList, baseUrl, maxConcurrentRequests(root, src));
  }

  private static int maxConcurrentRequests(ObjectNode root, String src) {
    JsonNode node = root.get("max_concurrent_requests");
    if (node == null || node.isNull()) {
      return SourceConfig.DEFAULT_MAX_CONCURRENT_REQUESTS;
    }
    if (!node.canConvertToInt() || !node.isIntegralNumber() || node.intValue() < 1) {
      throw Json.error(src, "max_concurrent_requests",
          "must be a positive integer, found " + (node.isNumber() ? node.asText() : Json.kind(node)),
          "give the most calls the source may have in flight at once for this connection, e.g. "
              + SourceConfig.DEFAULT_MAX_CONCURRENT_REQUESTS + " (the default), or remove the key");
    }
    return node.intValue();
  }

  private static @Nullable String optionalStringAllowEmpty(ObjectNode root, String src, String key) {
    JsonNode node = root.get(key);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual()) {
      throw Json.error(src, key, "must be a string, found " + Json.kind(node),
          "write the option names comma-separated in one string, e.g. \"limit,status\"");
    }
    return node.asText();
  }

  private static URI baseUrl(String url, String src) {
    String fix = "write an absolute http or https URL, e.g. \"http://localhost:8080\", or remove"
        + " base_url to use the embedded simulated source";
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw Json.error(src, "base_url", "is not a valid URL", fix);
    }
    // The host as the HTTP client reads it: java.net.URI reads a name with '_' (a Docker service's) as none.
    HttpUrl http = uri.getRawAuthority() == null ? null : HttpUrl.parse(url);
    if (uri.getRawUserInfo() != null || (http != null && !(http.username() + http.password()).isEmpty())) {
      // Do not echo: the user info may be a password.
      throw Json.error(src, "base_url", "must not contain user information (user:password@)",
          "remove it; credentials belong in username and password");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https"))
        || (uri.getHost() == null && http == null)) {
      throw Json.error(src, "base_url", "'" + url + "' is not an absolute http or https URL", fix);
    }
    return uri;
  }

  /** The host of a base URL as the HTTP client reads it (see {@link #baseUrl(String, String)}). */
  static String host(URI baseUrl) {
    return HttpUrl.get(baseUrl.toString()).host();
  }

  /** Never reveals the password: an inline one is shown as {@code <inline, redacted>}. */
  @Override
  public String toString() {
    return "Connection[name=" + name + ", username=" + username + ", password=" + password
        + ", externalOptionsAllowList=" + externalOptionsAllowList + ", baseUrl="
        + (baseUrl == null ? "<embedded simulated source>" : baseUrl) + ", maxConcurrentRequests="
        + maxConcurrentRequests + "]";
  }
}
