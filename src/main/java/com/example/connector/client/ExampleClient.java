package com.example.connector.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;
import okhttp3.ConnectionPool;
import okhttp3.Credentials;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * The Example source's HTTP API, as the connector uses it: discovery, pages of records and
 * pages of tombstones. Authenticates with HTTP Basic; retries 429, 500, 503 and connection
 * failures by its {@link RetryPolicy}, honouring {@code Retry-After}; fails at once on any other
 * error with the server's message and the request path, never the credentials.
 *
 * <p>Thread-safe; one instance per worker (DoFn {@code @Setup}) shares a connection pool.
 */
public final class ExampleClient implements AutoCloseable {

  /** Told of every retry, so that callers can count them (Beam metrics). */
  public interface RetryListener {
    void onRetry(String path, String reason);
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final OkHttpClient http;
  private final HttpUrl baseUrl;
  private final String authorization;
  private final RetryPolicy retry;
  private final RetryListener retryListener;

  private ExampleClient(SourceConfig config, RetryListener retryListener) {
    this.baseUrl = HttpUrl.get(config.baseUrl().toString());
    this.authorization = Credentials.basic(config.username(), config.password().reveal());
    this.retry = config.retry();
    this.retryListener = retryListener;
    this.http =
        new OkHttpClient.Builder()
            .connectionPool(new ConnectionPool(16, 5, TimeUnit.MINUTES))
            .connectTimeout(Duration.ofSeconds(10))
            .readTimeout(Duration.ofSeconds(60))
            .callTimeout(Duration.ofSeconds(120))
            .retryOnConnectionFailure(false) // our own policy decides, and counts
            .build();
  }

  public static ExampleClient create(SourceConfig config) {
    return create(config, (path, reason) -> {});
  }

  public static ExampleClient create(SourceConfig config, RetryListener retryListener) {
    return new ExampleClient(config, retryListener);
  }

  /** The discoverable tables, in the source's order (the hidden {@code metrics} is never here). */
  public List<String> listTables() {
    JsonNode tables = get(url("tables"), Map.of()).body.get("tables");
    List<String> names = new ArrayList<>();
    tables.forEach(t -> names.add(t.asText()));
    return names;
  }

  /** The source's clock, read from the {@code Date} header of a discovery call, if it sends one. */
  @Nullable
  public Instant sourceTime() {
    return get(url("tables"), Map.of()).sourceTime;
  }

  /** {@code {"schema": [...]}} of a discoverable table: the field descriptors. */
  public JsonNode schema(String table) {
    return get(url("tables", table, "schema"), Map.of()).body.get("schema");
  }

  /** {@code {"metadata": {...}}} of a discoverable table. */
  public JsonNode metadata(String table) {
    return get(url("tables", table, "metadata"), Map.of()).body.get("metadata");
  }

  /** One page of {@code /tables/{table}/records}. */
  public Page records(String table, Map<String, String> params) {
    return page(url("tables", table, "records"), params);
  }

  /** One page of {@code /tables/{table}/deleted_records}. */
  public Page deletedRecords(String table, Map<String, String> params) {
    return page(url("tables", table, "deleted_records"), params);
  }

  private Page page(HttpUrl url, Map<String, String> params) {
    Reply reply = get(url, params);
    List<ObjectNode> records = new ArrayList<>();
    reply.body.get("records").forEach(r -> records.add((ObjectNode) r));
    JsonNode next = reply.body.get("next_page");
    return new Page(
        records, next == null || next.isNull() ? null : next.asInt(), reply.sourceTime);
  }

  private HttpUrl url(String... segments) {
    HttpUrl.Builder b = baseUrl.newBuilder();
    for (String s : segments) {
      b.addPathSegment(s);
    }
    return b.build();
  }

  private record Reply(JsonNode body, @Nullable Instant sourceTime) {}

  private Reply get(HttpUrl url, Map<String, String> params) {
    HttpUrl.Builder b = url.newBuilder();
    params.forEach(b::addQueryParameter);
    HttpUrl target = b.build();
    String path = target.encodedPath() + (target.encodedQuery() == null ? "" : "?" + target.encodedQuery());
    Request request = new Request.Builder().url(target).header("Authorization", authorization).get().build();

    for (int attempt = 1; ; attempt++) {
      String failure;
      Duration wait = retry.backoffAfter(attempt);
      try (Response response = http.newCall(request).execute()) {
        int code = response.code();
        if (code == 200) {
          return new Reply(readJson(response.body(), path), parseDate(response.header("Date")));
        }
        String message = errorMessage(response.body());
        if (code != 429 && code != 500 && code != 503) {
          throw new SourceException(
              "GET " + path + " failed with HTTP " + code + ": " + message + hint(code), code, null);
        }
        failure = "HTTP " + code + ": " + message;
        Duration retryAfter = parseRetryAfter(response.header("Retry-After"));
        if (retryAfter != null) {
          wait = retryAfter;
        }
        if (attempt >= retry.maxAttempts()) {
          throw new SourceException(
              "GET " + path + " still failing after " + attempt + " attempts: " + failure, code, null);
        }
      } catch (IOException e) {
        failure = e.getClass().getSimpleName() + ": " + e.getMessage();
        if (attempt >= retry.maxAttempts()) {
          throw new SourceException(
              "GET " + path + " could not reach the source at " + baseUrl + " after " + attempt
                  + " attempts: " + failure,
              0,
              e);
        }
      }
      retryListener.onRetry(path, failure);
      sleep(wait);
    }
  }

  private static String hint(int code) {
    return code == 401
        ? " (the source rejected the connection's username or password: check the connection)"
        : "";
  }

  private static JsonNode readJson(ResponseBody body, String path) throws IOException {
    try (InputStream in = body.byteStream()) {
      JsonNode node = JSON.readTree(in);
      if (node == null || !node.isObject()) {
        throw new SourceException("GET " + path + " answered something other than a JSON object", 200, null);
      }
      return node;
    }
  }

  private static String errorMessage(@Nullable ResponseBody body) {
    if (body == null) {
      return "(no body)";
    }
    try {
      String text = body.string();
      try {
        JsonNode node = JSON.readTree(text);
        if (node != null && node.hasNonNull("error")) {
          return node.get("error").asText();
        }
      } catch (IOException notJson) {
        // fall through: show the raw text, shortened
      }
      return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    } catch (IOException e) {
      return "(unreadable body: " + e.getMessage() + ")";
    }
  }

  @Nullable
  private static Instant parseDate(@Nullable String header) {
    if (header == null) {
      return null;
    }
    try {
      return ZonedDateTime.parse(header, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      return null; // a malformed Date is as good as none: the caller falls back to its own clock
    }
  }

  @Nullable
  private static Duration parseRetryAfter(@Nullable String header) {
    if (header == null) {
      return null;
    }
    try {
      return Duration.ofSeconds(Math.max(0, Long.parseLong(header.trim())));
    } catch (NumberFormatException e) {
      return null; // an HTTP-date form is rare; the exponential backoff applies instead
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SourceException("interrupted while waiting to retry", 0, e);
    }
  }

  @Override
  public void close() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }
}
