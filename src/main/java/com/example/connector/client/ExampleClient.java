package com.example.connector.client;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.Credentials;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Example source's HTTP API, as the connector uses it: discovery, pages of records and
 * pages of tombstones. Authenticates with HTTP Basic; retries 429, 500, 503 and connection
 * failures (a body cut mid-way included) by its {@link RetryPolicy}, honouring
 * {@code Retry-After} up to {@link #MAX_RETRY_AFTER}; fails at once on any other error with the
 * server's message and the request, never the credentials. Every attempt passes the
 * connection's {@link CallBudget} (calls in flight, AIMD on 429/503, a connection-wide
 * {@code Retry-After}).
 *
 * <p>Pages are parsed as they arrive ({@link #records(String, Map, RecordHandler)}), so memory
 * does not grow with the page size. A {@code 200} whose body is not the API's JSON (an HTML page
 * from a proxy, truncated or mistyped JSON) fails at once, saying what came back: retrying an
 * answer that was delivered whole will not change it.
 *
 * <p>Thread-safe; one instance per worker (DoFn {@code @Setup}) shares a connection pool.
 */
public final class ExampleClient implements AutoCloseable {

  /** Told of retries and of the call budget's events, so that callers can count them (Beam metrics). */
  public interface RetryListener {
    void onRetry(String path, String reason);

    /** An attempt is sent with {@code inFlight} calls of the connection in flight, itself included. */
    default void onCallStarted(String path, int inFlight) {}

    /** An attempt was answered 429 or 503, or had to wait for a {@code Retry-After} of the connection. */
    default void onThrottled(String path) {}

    /** Every call of the connection is held until {@code until} by a {@code Retry-After}. */
    default void onHold(String path, Instant until) {}
  }

  /** Receives a page's records one by one as they are parsed, so no page is ever held whole. */
  public interface RecordHandler {
    /** One record, in the source's order. Returns false to stop reading the page there. */
    boolean record(ObjectNode record);

    /**
     * A transient failure cut the page after records were handed on: it is requested again and
     * delivered from its first record.
     */
    void restart();
  }

  /** Waits between attempts; tests record the waits instead of sleeping. */
  interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;
  }

  /**
   * The longest {@code Retry-After} honoured. A worker waiting holds its bundle; a minute is
   * twice the default policy's longest backoff (30 s) and bounds what a misbehaving server can
   * stall a read by per attempt (the attempts still run out as usual).
   */
  static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(60);

  /** The name a response's {@code Retry-After} reaches the retry policy under. */
  private static final String RETRY_AFTER = "X-Example-Retry-After";
  private static final Logger LOG = LoggerFactory.getLogger(ExampleClient.class);
  /**
   * Strings of any length: Jackson's default limit (20,000,000 characters) failed a record with a
   * large value, a column's value as the source sent it, as a body that is not the API's JSON.
   */
  private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
      .build());
  /**
   * Whether this thread holds a call's place in its budget: a call made while it reads that call's
   * page (a record's conversion asking for the table's schema) takes that place too, as waiting
   * for another could wait for ever (every place may be held by a page whose reader does the same).
   */
  private static final ThreadLocal<Boolean> IN_CALL = ThreadLocal.withInitial(() -> false);

  private final OkHttpClient http;
  private final HttpUrl baseUrl;
  private final String authorization;
  /** The connection's password, only to mask it in what the source answers (it may echo it). */
  private final String password;
  private final RetryPolicy retry;
  private final RetryListener retryListener;
  private final CallBudget budget;

  private ExampleClient(SourceConfig config, RetryListener retryListener, CallBudget budget) {
    this.baseUrl = HttpUrl.get(config.baseUrl().toString());
    this.password = config.password().reveal();
    // UTF-8, RFC 7617's only charset: okhttp's default ISO-8859-1 sends letters beyond ASCII wrong.
    this.authorization = Credentials.basic(config.username(), password, StandardCharsets.UTF_8);
    this.retry = config.retry();
    this.retryListener = retryListener;
    this.budget = budget;
    this.http =
        new OkHttpClient.Builder()
            .connectionPool(new ConnectionPool(16, 5, TimeUnit.MINUTES))
            .connectTimeout(Duration.ofSeconds(10))
            .readTimeout(Duration.ofSeconds(60))
            // No call timeout: a streamed page is read while its rows are output, which may wait on the
            // runner; the read timeout still bounds a stalled server.
            .callTimeout(Duration.ZERO)
            .retryOnConnectionFailure(false) // our own policy decides, and counts
            // OkHttp repeats a 503 itself when its Retry-After is 0 (outside our policy and budget)
            // and fails with a NumberFormatException on one beyond an int: the header reaches our
            // policy under another name, which OkHttp does not read.
            .addNetworkInterceptor(chain -> {
              Response response = chain.proceed(chain.request());
              String retryAfter = response.header("Retry-After");
              return retryAfter == null ? response : response.newBuilder()
                  .removeHeader("Retry-After").header(RETRY_AFTER, retryAfter).build();
            })
            .build();
  }

  public static ExampleClient create(SourceConfig config) {
    return create(config, (path, reason) -> {});
  }

  /** A client sharing the budget of {@code config}'s connection with the JVM's other clients of it. */
  public static ExampleClient create(SourceConfig config, RetryListener retryListener) {
    return create(config, retryListener, CallBudget.of(config));
  }

  /** A client under {@code budget}, whose clock and sleeper tests choose. */
  static ExampleClient create(SourceConfig config, RetryListener retryListener, CallBudget budget) {
    return new ExampleClient(config, retryListener, budget);
  }

  /** The discoverable tables, in the source's order (the hidden {@code metrics} is never here). */
  public List<String> listTables() {
    List<String> names = new ArrayList<>();
    call(url("tables"), Map.of(), member("tables", JsonNodeType.ARRAY))
        .forEach(t -> names.add(t.asText()));
    return names;
  }

  /**
   * The source's clock, read from the {@code Date} header of a discovery call; null, with a
   * warning, when the source sends none or a malformed one (the caller then uses its own clock).
   */
  @Nullable
  public Instant sourceTime() {
    Instant time = call(url("tables"), Map.of(), (parser, response, request) -> {
      member("tables", JsonNodeType.ARRAY).read(parser, response, request);
      return parseDate(response.header("Date"));
    });
    if (time == null) {
      LOG.warn(
          "The source at {} sent no valid Date header: the run's cursor cap falls back to this"
              + " machine's clock, which weakens the protection against clock skew between the"
              + " pipeline and the source (records written during the run may be missed or read twice"
              + " if the clocks differ)",
          redactedBaseUrl());
    }
    return time;
  }

  /** {@code {"schema": [...]}} of a discoverable table: the field descriptors. */
  public JsonNode schema(String table) {
    return call(url("tables", table, "schema"), Map.of(), member("schema", JsonNodeType.ARRAY));
  }

  /** {@code {"metadata": {...}}} of a discoverable table. */
  public JsonNode metadata(String table) {
    return call(url("tables", table, "metadata"), Map.of(), member("metadata", JsonNodeType.OBJECT));
  }

  /** One page of {@code /tables/{table}/records}, held whole: for small pages only. */
  public Page records(String table, Map<String, String> params) {
    return collect(handler -> records(table, params, handler));
  }

  /** One page of {@code /tables/{table}/deleted_records}, held whole: for small pages only. */
  public Page deletedRecords(String table, Map<String, String> params) {
    return collect(handler -> deletedRecords(table, params, handler));
  }

  /** Streams one page of {@code /tables/{table}/records} to {@code handler}. */
  public PageEnd records(String table, Map<String, String> params, RecordHandler handler) {
    return call(url("tables", table, "records"), params, new PageReader(handler));
  }

  /** Streams one page of {@code /tables/{table}/deleted_records} to {@code handler}. */
  public PageEnd deletedRecords(String table, Map<String, String> params, RecordHandler handler) {
    return call(url("tables", table, "deleted_records"), params, new PageReader(handler));
  }

  private interface StreamedCall {
    PageEnd run(RecordHandler handler);
  }

  private static Page collect(StreamedCall call) {
    List<ObjectNode> records = new ArrayList<>();
    PageEnd end = call.run(new RecordHandler() {
      @Override
      public boolean record(ObjectNode record) {
        return records.add(record);
      }

      @Override
      public void restart() {
        records.clear();
      }
    });
    return new Page(records, end.nextPage());
  }

  private HttpUrl url(String... segments) {
    HttpUrl.Builder b = baseUrl.newBuilder();
    for (String s : segments) {
      b.addPathSegment(s);
    }
    return b.build();
  }

  /** Reads a {@code 200}'s body; a {@link JsonProcessingException} means it is not the API's. */
  private interface BodyReader<T> {
    T read(JsonParser parser, Response response, String request) throws IOException;

    /** Called before an attempt that follows a failed one. */
    default void beforeRetry() {}
  }

  private <T> T call(HttpUrl url, Map<String, String> params, BodyReader<T> reader) {
    HttpUrl.Builder b = url.newBuilder();
    params.forEach(b::addQueryParameter);
    HttpUrl target = b.build();
    String path = target.encodedPath() + (target.encodedQuery() == null ? "" : "?" + target.encodedQuery());
    String request = "GET " + path;
    Request httpRequest = new Request.Builder().url(target).header("Authorization", authorization).get().build();

    boolean nested = IN_CALL.get();
    for (int attempt = 1; ; attempt++) {
      String failure;
      Duration wait = retry.backoffAfter(attempt);
      CallBudget.Outcome outcome = CallBudget.Outcome.OTHER;
      if (!nested && budget.acquire(path, retryListener).held()) {
        retryListener.onThrottled(path);
      }
      IN_CALL.set(true);
      try (Response response = http.newCall(httpRequest).execute()) {
        int code = response.code();
        if (code == 200) {
          T result = readBody(response, request, reader);
          outcome = CallBudget.Outcome.SUCCESS;
          return result;
        }
        String message = withoutSecrets(errorMessage(response.body()));
        if (!SourceException.isTransient(code)) {
          throw new SourceException(
              request + " failed with HTTP " + code + ": " + message + hint(code), code, null);
        }
        failure = "HTTP " + code + ": " + message;
        if (isThrottling(code)) {
          outcome = CallBudget.Outcome.THROTTLED;
          retryListener.onThrottled(path);
        }
        Duration retryAfter = retryAfter(response.header(RETRY_AFTER), parseDate(response.header("Date")));
        if (retryAfter != null) {
          budget.hold(path, retryAfter, retryListener);
          wait = retryAfter;
        }
        if (attempt >= retry.maxAttempts()) {
          throw new SourceException(
              request + " still failing after " + attempt + " attempts: " + failure, code, null);
        }
      } catch (IOException e) { // no answer, or its body cut mid-way: a new attempt may succeed
        failure = e.getClass().getSimpleName() + ": " + e.getMessage();
        if (attempt >= retry.maxAttempts()) {
          throw new SourceException(
              request + " could not reach the source at " + redactedBaseUrl() + " after " + attempt
                  + " attempts: " + failure,
              0,
              e);
        }
      } finally {
        if (!nested) {
          IN_CALL.set(false);
          budget.release(outcome);
        }
      }
      retryListener.onRetry(path, failure);
      reader.beforeRetry();
      budget.sleep(wait);
    }
  }

  /**
   * Parses a {@code 200}'s body with {@code reader}. A body that is not the API's JSON was
   * delivered whole (a cut one fails with an {@link IOException} of the connection instead), so
   * it fails at once with what came back.
   */
  private <T> T readBody(Response response, String request, BodyReader<T> reader) throws IOException {
    ResponseBody body = response.body();
    BodyHead in = new BodyHead(body.byteStream());
    try (JsonParser parser = JSON.createParser(in)) {
      return reader.read(parser, response, request);
    } catch (JsonProcessingException e) {
      throw new SourceException(
          request + " answered HTTP 200 with a body that is not the Example API's JSON: "
              + e.getOriginalMessage() + at(e.getLocation()) + "; Content-Type: "
              + (body.contentType() == null ? "(none)" : body.contentType()) + "; the body began: "
              + withoutSecrets(in.head()) + ". Check that the connection's base_url is the Example source itself",
          200,
          null);
    }
  }

  private static String at(@Nullable JsonLocation location) {
    return location == null ? "" : " (at line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
  }

  /** The object's {@code name} member, required to be of {@code type}. */
  private static BodyReader<JsonNode> member(String name, JsonNodeType type) {
    return (parser, response, request) -> {
      JsonNode body = parser.readValueAsTree();
      if (body == null || !body.isObject()) {
        throw new JsonParseException(parser, "the body is not a JSON object");
      }
      requireEnd(parser);
      JsonNode value = body.get(name);
      if (value == null || value.getNodeType() != type) {
        throw new JsonParseException(
            parser, "'" + name + "' should be " + type.name().toLowerCase() + " but was " + describe(value));
      }
      return value;
    };
  }

  private static void requireEnd(JsonParser parser) throws IOException {
    if (parser.nextToken() != null) {
      throw new JsonParseException(parser, "content after the JSON object");
    }
  }

  private static String describe(@Nullable JsonNode value) {
    return value == null ? "missing" : value.getNodeType().name().toLowerCase() + " " + shorten(value.toString());
  }

  private static String shorten(String text) {
    return text.length() > 100 ? text.substring(0, 100) + "..." : text;
  }

  /**
   * Reads {@code {"records": [...], "next_page": N}} token by token, handing each record on as
   * soon as it is parsed.
   */
  private static final class PageReader implements BodyReader<PageEnd> {
    private final RecordHandler handler;
    private boolean delivered; // records were handed on in the current attempt

    PageReader(RecordHandler handler) {
      this.handler = handler;
    }

    @Override
    public PageEnd read(JsonParser parser, Response response, String request) throws IOException {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw new JsonParseException(parser, "the page is not a JSON object");
      }
      boolean sawRecords = false;
      boolean sawNextPage = false;
      Integer nextPage = null;
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = parser.getCurrentName();
        JsonToken value = parser.nextToken();
        if (name.equals("records")) {
          if (value != JsonToken.START_ARRAY) {
            throw new JsonParseException(parser, "'records' should be an array but was " + value);
          }
          sawRecords = true;
          if (!readRecords(parser, request)) {
            return PageEnd.STOPPED;
          }
        } else if (name.equals("next_page")) {
          nextPage = nextPage(parser, value);
          sawNextPage = true;
        } else {
          parser.skipChildren();
        }
      }
      if (!sawRecords || !sawNextPage) {
        throw new JsonParseException(parser, "the page has no '" + (sawRecords ? "next_page" : "records") + "'");
      }
      requireEnd(parser);
      if (!delivered && nextPage != null) {
        // Every reader takes an empty page for its end, which here would skip the later pages' records.
        throw new SourceException(request + " answered an empty page that is not the last (next_page " + nextPage
            + "): the connector takes an empty page for the end of what it reads, so it stops rather than skip"
            + " the records of later pages", 200, null);
      }
      return new PageEnd(nextPage, false);
    }

    /** Hands the array's records on; false if the handler stopped. */
    private boolean readRecords(JsonParser parser, String request) throws IOException {
      for (int index = 0; ; index++) {
        JsonToken token = parser.nextToken();
        if (token == JsonToken.END_ARRAY) {
          return true;
        }
        if (token != JsonToken.START_OBJECT) {
          throw new JsonParseException(parser, "records[" + index + "] should be an object but was " + token);
        }
        ObjectNode record = parser.readValueAsTree();
        delivered = true;
        if (!deliver(record, request)) {
          return false;
        }
      }
    }

    /** A record the handler rejects (it does not fit the table) fails naming the request. */
    private boolean deliver(ObjectNode record, String request) {
      try {
        return handler.record(record);
      } catch (SourceException e) {
        throw new SourceException(request + ": " + e.getMessage(), e.status(), e);
      }
    }

    @Nullable
    private static Integer nextPage(JsonParser parser, JsonToken value) throws IOException {
      if (value == JsonToken.VALUE_NULL) {
        return null;
      }
      if (value == JsonToken.VALUE_NUMBER_INT && parser.getNumberType() == JsonParser.NumberType.INT) {
        return parser.getIntValue();
      }
      throw new JsonParseException(parser, "'next_page' should be an integer or null but was " + value);
    }

    @Override
    public void beforeRetry() {
      if (delivered) {
        handler.restart();
        delivered = false;
      }
    }
  }

  /** 429 and 503 say the source is overloaded (unlike a 500), so the budget narrows. */
  private static boolean isThrottling(int code) {
    return code == 429 || code == 503;
  }

  private static String hint(int code) {
    return code == 401
        ? " (the source rejected the connection's username or password: check the connection)"
        : "";
  }

  /**
   * What the source answered, with the connection's password and its Basic credentials masked: a
   * server may echo the credentials it rejected. A password of fewer than four characters is not
   * searched for (it would mask letters of the message).
   */
  private String withoutSecrets(String text) {
    String masked = text.replace(authorization.substring("Basic ".length()), "****");
    return password.length() < 4 ? masked : masked.replace(password, "****");
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
      return ZonedDateTime.parse(header.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      return null; // a malformed date is as good as none
    }
  }

  /**
   * The wait a {@code Retry-After} asks for, in seconds or as an HTTP-date (measured from the
   * response's {@code Date}, else this machine's clock), at most {@link #MAX_RETRY_AFTER}; null
   * if absent or unreadable.
   */
  @Nullable
  static Duration retryAfter(@Nullable String header, @Nullable Instant serverNow) {
    if (header == null) {
      return null;
    }
    String value = header.trim();
    Duration wait;
    if (!value.isEmpty() && value.chars().allMatch(c -> c >= '0' && c <= '9')) {
      wait = value.length() > 9 ? MAX_RETRY_AFTER : Duration.ofSeconds(Long.parseLong(value));
    } else {
      Instant at = parseDate(value);
      if (at == null) {
        return null;
      }
      wait = Duration.between(serverNow != null ? serverNow : Instant.now(), at);
    }
    return wait.isNegative() ? Duration.ZERO : wait.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : wait;
  }

  /** The base URL without any user info, for messages. */
  private String redactedBaseUrl() {
    return baseUrl.newBuilder().username("").password("").build().toString();
  }

  @Override
  public void close() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }
}
