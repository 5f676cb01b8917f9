package com.example.source;

import com.example.source.Tables.Table;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Routing, rate limiting, authentication and fault injection for the contract in source-api.md.
 *
 * <p>Order per request, all decided from the request line and headers before any body is read
 * ({@link #admit}): count it, call the request listener, apply the per-credential rate limit,
 * decide an injected fault (before any effect), check Basic auth. Then {@link #handle} routes.
 */
final class ApiHandler implements SourceHttpServer.Handler {
  private static final int[] FAULTS = {429, 500, 503};
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

  private final Store store;
  private final int[] pageSizes; // by table id
  private final RateLimiter rateLimiter; // null: unlimited
  private final AtomicLong requests = new AtomicLong();
  volatile double errorRate;
  volatile ExampleSource.RequestListener listener;

  ApiHandler(Store store, int[] pageSizes, double errorRate, RateLimiter rateLimiter) {
    this.store = store;
    this.pageSizes = pageSizes;
    this.errorRate = errorRate;
    this.rateLimiter = rateLimiter;
  }

  long requestCount() {
    return requests.get();
  }

  @Override
  public ApiResponse admit(ApiRequest req) {
    requests.incrementAndGet();
    ExampleSource.RequestListener l = listener;
    if (l != null) {
      l.onRequest(req.method(), req.rawPath(), req.rawQuery());
    }
    String user = username(req.headers().get("authorization"));
    ApiResponse refused = user == null || rateLimiter == null ? null : rateLimited(user);
    if (refused == null) {
      refused = injectedFault();
    }
    if (refused == null && user == null) {
      refused = ApiResponse.error(401, "authentication required: HTTP Basic with a non-empty username and password")
          .header("WWW-Authenticate", "Basic realm=\"example\"");
    }
    return refused;
  }

  @Override
  public ApiResponse handle(ApiRequest req) {
    try {
      return route(req);
    } catch (ApiError e) {
      return ApiResponse.error(e.status(), e.getMessage());
    }
  }

  private ApiResponse rateLimited(String user) {
    long retryAfter = rateLimiter.acquire(user);
    if (retryAfter == 0) {
      return null;
    }
    return ApiResponse.error(429, "rate limit exceeded: at most " + rateLimiter.callsPerSecond()
        + " calls per second per user; retry after " + retryAfter + " s").header("Retry-After", Long.toString(retryAfter));
  }

  private ApiResponse injectedFault() {
    double rate = errorRate;
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    if (!(rate > 0 && rnd.nextDouble() < rate)) {
      return null;
    }
    int status = FAULTS[rnd.nextInt(FAULTS.length)];
    ApiResponse r = ApiResponse.error(status, "injected fault (" + status + ")");
    if (status == 429 && rnd.nextBoolean()) {
      r.header("Retry-After", "1");
    }
    return r;
  }

  /** The username of valid Basic credentials (both parts non-blank), else null. */
  static String username(String header) {
    if (header == null) {
      return null;
    }
    String h = header.trim();
    if (h.length() < 6 || !h.substring(0, 6).equalsIgnoreCase("basic ")) {
      return null;
    }
    String decoded;
    try {
      byte[] raw = Base64.getDecoder().decode(h.substring(6).trim());
      decoded = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(raw)).toString();
    } catch (IllegalArgumentException | CharacterCodingException e) {
      return null;
    }
    int colon = decoded.indexOf(':');
    if (colon < 0) {
      return null;
    }
    String user = decoded.substring(0, colon);
    return user.isBlank() || decoded.substring(colon + 1).isBlank() ? null : user;
  }

  private ApiResponse route(ApiRequest req) {
    List<String> seg = new ArrayList<>();
    String p = req.rawPath();
    if (!p.startsWith("/")) {
      throw new ApiError(404, "not found: " + p);
    }
    for (String s : p.substring(1).split("/", -1)) {
      seg.add(decode(s, "path"));
    }
    if (seg.isEmpty() || !seg.get(0).equals("tables")) {
      throw new ApiError(404, "not found: " + p);
    }
    if (seg.size() == 1) {
      requireMethod(req, "GET");
      List<String> names = new ArrayList<>();
      for (Table t : Tables.ALL) {
        if (!t.hidden) {
          names.add(t.name);
        }
      }
      return ok(200, Map.of("tables", names));
    }
    Table t = Tables.byName(seg.get(1));
    if (t == null) {
      throw new ApiError(404, "unknown table: " + seg.get(1));
    }
    if (seg.size() == 3) {
      switch (seg.get(2)) {
        case "schema": {
          if (t.hidden) {
            throw new ApiError(404, "unknown table: " + t.name);
          }
          requireMethod(req, "GET");
          List<Object> fields = new ArrayList<>();
          for (Tables.Field f : store.fields(t)) {
            fields.add(f.descriptor());
          }
          return ok(200, Map.of("schema", fields));
        }
        case "metadata":
          if (t.hidden) {
            throw new ApiError(404, "unknown table: " + t.name);
          }
          requireMethod(req, "GET");
          return ok(200, Map.of("metadata", t.metadata()));
        case "records":
          if (req.method().equals("GET")) {
            return readRecords(t, req);
          }
          if (req.method().equals("POST")) {
            return write(t, req);
          }
          throw methodNotAllowed("GET, POST");
        case "deleted_records":
          requireMethod(req, "GET");
          if (t != Tables.ORDERS) {
            throw new ApiError(400, "deleted_records is only available for orders, not " + t.name);
          }
          return readTombstones(t, req);
        default:
          throw new ApiError(404, "not found: " + p);
      }
    }
    if (seg.size() == 4 && seg.get(2).equals("records")) {
      requireMethod(req, "DELETE");
      if (t != Tables.ORDERS) {
        throw new ApiError(400, "deletes are only supported for orders, not " + t.name);
      }
      Entry tomb = store.delete(t, seg.get(3));
      return ok(200, Map.of("record", tomb.record));
    }
    throw new ApiError(404, "not found: " + p);
  }

  private static void requireMethod(ApiRequest req, String method) {
    if (!req.method().equals(method)) {
      throw methodNotAllowed(method);
    }
  }

  private static ApiError methodNotAllowed(String allowed) {
    return new ApiError(405, "method not allowed; allowed: " + allowed);
  }

  private ApiResponse write(Table t, ApiRequest req) {
    Map<String, Object> rec = store.validate(t, Json.parse(req.body()));
    Entry e = store.upsert(t, rec);
    return ok(t.cursor == null ? 201 : 200, Map.of("record", e.record));
  }

  private ApiResponse readRecords(Table t, ApiRequest req) {
    Map<String, String> q = query(req.rawQuery());
    for (String name : q.keySet()) {
      if (!t.params.contains(name)) {
        throw new ApiError(400, "unknown parameter '" + name + "' for table " + t.name);
      }
    }
    Long since = q.containsKey("since") ? timestamp(q.get("since"), "since") : null;
    Long until = q.containsKey("until") ? timestamp(q.get("until"), "until") : null;
    long page = page(q.get("page"));
    int size = pageSizes[t.id];
    if (q.containsKey("limit")) {
      size = (int) Math.min(size, positive(q.get("limit"), "limit"));
    }
    Map<String, String> filters = new LinkedHashMap<>();
    for (String f : new String[] {"category", "user_id", "status"}) {
      if (q.containsKey(f)) {
        filters.put(f, q.get(f));
      }
    }
    return pageResponse(t, store.page(t, since, until, filters, page, size));
  }

  private ApiResponse readTombstones(Table t, ApiRequest req) {
    Map<String, String> q = query(req.rawQuery());
    for (String name : q.keySet()) {
      if (!name.equals("since") && !name.equals("page")) {
        throw new ApiError(400, "unknown parameter '" + name + "' for deleted_records of " + t.name);
      }
    }
    Long since = q.containsKey("since") ? timestamp(q.get("since"), "since") : null;
    return pageResponse(t, store.tombstones(t, since, page(q.get("page")), pageSizes[t.id]));
  }

  private ApiResponse pageResponse(Table t, Store.Page page) {
    List<Object> records = new ArrayList<>(page.records.size());
    for (Entry e : page.records) {
      records.add(store.rendered(t, e));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("records", records);
    body.put("next_page", page.nextPage);
    return new ApiResponse(200, Json.write(body));
  }

  private static ApiResponse ok(int status, Object body) {
    return new ApiResponse(status, Json.write(body));
  }

  private static long timestamp(String v, String name) {
    try {
      return Timestamps.parse(v);
    } catch (IllegalArgumentException e) {
      throw new ApiError(400, "invalid '" + name + "': expected an ISO-8601 timestamp with offset, got '" + v + "'");
    }
  }

  /** 1 if absent; huge values saturate to Long.MAX_VALUE (an empty last page). */
  private static long page(String v) {
    return v == null ? 1 : positive(v, "page");
  }

  private static long positive(String v, String name) {
    if (v.isEmpty() || v.length() > 1000 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new ApiError(400, "invalid '" + name + "': expected a positive integer, got '" + v + "'");
    }
    BigInteger b = new BigInteger(v);
    if (b.signum() <= 0) {
      throw new ApiError(400, "invalid '" + name + "': must be >= 1, got '" + v + "'");
    }
    return b.compareTo(LONG_MAX) > 0 ? Long.MAX_VALUE : b.longValue();
  }

  /**
   * Parses a query string. Percent-decoding is UTF-8; '+' is kept literally (so an unencoded
   * offset such as {@code +02:00} still works). A repeated parameter is 400.
   */
  static Map<String, String> query(String raw) {
    Map<String, String> m = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return m;
    }
    for (String part : raw.split("&")) {
      if (part.isEmpty()) {
        continue;
      }
      int eq = part.indexOf('=');
      String name = decode(eq < 0 ? part : part.substring(0, eq), "query");
      String value = eq < 0 ? "" : decode(part.substring(eq + 1), "query");
      if (m.put(name, value) != null) {
        throw new ApiError(400, "parameter '" + name + "' given more than once");
      }
    }
    return m;
  }

  static String decode(String s, String where) {
    if (s.indexOf('%') < 0 && s.chars().allMatch(c -> c < 128)) {
      return s;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 3 > s.length()) {
          throw bad(where, s);
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw bad(where, s);
        }
        out.write(hi * 16 + lo);
        i += 2;
      } else if (c < 256) {
        out.write(c); // the request line is read as ISO-8859-1: one char per raw byte
      } else {
        byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(out.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      throw bad(where, s);
    }
  }

  private static ApiError bad(String where, String s) {
    return new ApiError(400, "invalid percent-encoding in " + where + ": '" + s + "'");
  }
}
