package com.example.source;

import com.example.source.Tables.Table;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The simulated Example source: a real HTTP server honouring source-api.md, with deterministic
 * seed data, an in-memory write overlay, fault injection, optional background activity, and
 * optional remote-API behaviour (response latency, a per-user rate limit).
 *
 * <pre>{@code
 * try (ExampleSource src = ExampleSource.builder().port(0).errorRate(0.0).start()) {
 *   URI base = src.baseUrl();
 * }
 * }</pre>
 */
public final class ExampleSource implements AutoCloseable {

  /**
   * Called synchronously for every request, before the rate limit, fault injection,
   * authentication and routing, and before any request body is read (so also for requests that
   * then fail with 429, 401 or an injected fault). {@code path} is the raw
   * (still percent-encoded) path, {@code query} the raw query string or null.
   */
  @FunctionalInterface
  public interface RequestListener {
    void onRequest(String method, String path, String query);
  }

  private final Store store;
  private final ApiHandler handler;
  private final SourceHttpServer server;
  private final URI baseUrl;
  private final ScheduledExecutorService activity;
  private volatile boolean activityStopped;
  private volatile boolean closed;

  private ExampleSource(Builder b) throws IOException {
    Clock clock = b.clock;
    SeedData seed = new SeedData(b.seed, b.nullRate, Timestamps.micros(b.baseTime), b.ties, b.rows);
    this.store = new Store(seed, clock);
    int[] sizes = new int[Tables.ALL.size()];
    for (Table t : Tables.ALL) {
      sizes[t.id] = b.pageSizes.getOrDefault(t.name, t.maxPageSize);
    }
    this.handler = new ApiHandler(store, sizes, b.errorRate, b.rateLimit == 0 ? null : new RateLimiter(clock, b.rateLimit));
    this.server = new SourceHttpServer(InetAddress.getByName(b.bind), b.port, handler, clock,
        new SourceHttpServer.Timing(b.latencyMs, b.latencyTimer, b.bodyTimeoutMs));
    server.start(); // binds; port() is the real port from here on
    String host = b.bind.contains(":") ? "[" + b.bind + "]" : b.bind;
    this.baseUrl = URI.create("http://" + host + ":" + server.port());
    if (b.activity > 0) {
      activity = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "source-activity");
        t.setDaemon(true);
        return t;
      });
      Activity a = new Activity(b.activity, b.seed);
      activity.scheduleAtFixedRate(a::tick, a.periodNanos, a.periodNanos, TimeUnit.NANOSECONDS);
    } else {
      activity = null;
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** {@code http://HOST:PORT}, without a trailing slash. */
  public URI baseUrl() {
    return baseUrl;
  }

  public int port() {
    return server.port();
  }

  public void setErrorRate(double errorRate) {
    handler.errorRate = checkRate(errorRate, "error rate");
  }

  /** Requests received so far, on all routes, including 401s and injected faults. */
  public long requestCount() {
    return handler.requestCount();
  }

  /** Writes (POST, DELETE, upsert, delete, background activity) applied so far. */
  public long writeCount() {
    return store.writeCount();
  }

  /**
   * Waits until {@link #writeCount()} reaches {@code count} (e.g. background activity having
   * written enough); false if {@code timeout} passed first.
   */
  public boolean awaitWrites(long count, Duration timeout) throws InterruptedException {
    return store.awaitWrites(count, timeout);
  }

  public void setRequestListener(RequestListener listener) {
    handler.listener = listener;
  }

  /**
   * Same semantics as {@code POST /tables/{table}/records}; returns the stored record (JSON-shaped:
   * timestamps as ISO-8601 strings, structs as maps).
   *
   * @throws ApiError with the HTTP status the POST would answer (400, 404, 409)
   */
  public Map<String, Object> upsert(String table, Map<String, ?> record) {
    Table t = table(table);
    Map<String, Object> rec = store.validate(t, Json.MAPPER.valueToTree(record));
    return store.upsert(t, rec).record;
  }

  /**
   * Adds a nullable column to a table, as the source's owner would while clients read (tests of a
   * schema that changes under a run): {@code GET /tables/{table}/schema} lists it from now on,
   * writes may set it, and every record carries it, null where it was never written.
   *
   * @param type {@code string}, {@code integer}, {@code double} or {@code timestamp}
   * @throws ApiError 404 for no such table, 409 if the table has a column of that name
   */
  public void addColumn(String table, String column, String type) {
    if (!Set.of("string", "integer", "double", "timestamp").contains(type)) {
      throw new IllegalArgumentException("a column added at run time is a string, integer, double or timestamp, not " + type);
    }
    store.addColumn(table(table), Tables.Field.of(column, type, true));
  }

  /**
   * Same semantics as {@code DELETE /tables/{table}/records/{key}}; returns the tombstone.
   *
   * @throws ApiError 400 for a table other than orders, 404 for no such table or key
   */
  public Map<String, Object> delete(String table, String key) {
    Table t = table(table);
    if (t != Tables.ORDERS) {
      throw new ApiError(400, "deletes are only supported for orders, not " + t.name);
    }
    return store.delete(t, key).record;
  }

  private static Table table(String name) {
    Table t = Tables.byName(name);
    if (t == null) {
      throw new ApiError(404, "unknown table: " + name);
    }
    return t;
  }

  /**
   * Stops the background activity and waits for a write in progress, so that no activity write
   * lands after this returns (the server keeps serving). Idempotent.
   */
  public void stopActivity() {
    if (activity == null) {
      return;
    }
    activityStopped = true;
    activity.shutdown(); // cancels the schedule; a running tick sees the flag after its current write
    boolean interrupted = false;
    while (!activity.isTerminated()) {
      try {
        activity.awaitTermination(1, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        interrupted = true; // keep waiting: the guarantee above must hold
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the background activity (waiting for a write in progress), then the server. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    stopActivity();
    server.close();
  }

  private static double checkRate(double r, String what) {
    if (!(r >= 0.0 && r <= 1.0)) {
      throw new IllegalArgumentException(what + " must be in [0, 1]: " + r);
    }
    return r;
  }

  /** Background writes through the same write path (and stamp source) as POST and DELETE. */
  private final class Activity {
    final long periodNanos;
    final double perTick;
    final SplittableRandom rnd;
    final long[] nextKey = new long[Tables.ALL.size()];
    double carry;

    Activity(double perSecond, long seed) {
      this.periodNanos = Math.max(10_000_000L, (long) (1e9 / perSecond));
      this.perTick = perSecond * periodNanos / 1e9;
      this.rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
      for (Table t : Tables.ALL) {
        nextKey[t.id] = store.seed().count(t);
      }
    }

    void tick() {
      carry += perTick;
      while (carry >= 1 && !activityStopped) {
        carry -= 1;
        try {
          writeOne();
        } catch (RuntimeException e) {
          // keep the schedule alive; a failed random write is not fatal
        }
      }
    }

    private void writeOne() {
      Table t = Tables.ALL.get(rnd.nextInt(Tables.ALL.size()));
      SeedData seed = store.seed();
      double op = rnd.nextDouble();
      if (t != Tables.PRODUCTS && t != Tables.EVENTS && op < 0.7 && nextKey[t.id] > 0) {
        String key = seed.key(t, rnd.nextLong(nextKey[t.id]));
        if (store.exists(t, key)) {
          if (t == Tables.ORDERS && op < 0.2) {
            store.delete(t, key);
          } else {
            store.upsert(t, record(t, key));
          }
          return;
        }
      }
      // insert a new key continuing the seed's key sequence
      String key;
      do {
        key = seed.key(t, nextKey[t.id]++);
      } while (store.exists(t, key));
      store.upsert(t, record(t, key));
    }

    private Map<String, Object> record(Table t, String key) {
      Map<String, Object> rec = new LinkedHashMap<>(store.seed().row(t, rnd.nextLong(1, 1_000_000_000L)).record);
      rec.put(t.pk, key);
      if (t.cursor != null) {
        rec.put(t.cursor, null);
      }
      return rec;
    }
  }

  /** Configuration; every setting has the contract's default. */
  public static final class Builder {
    private int port = 0;
    private String bind = "127.0.0.1";
    private final Map<String, Long> rows = new HashMap<>();
    private double errorRate = 0.03;
    private double nullRate = 0.2;
    private long seed = 42L;
    private Instant baseTime = Instant.parse("2024-01-01T00:00:00Z");
    private final Map<String, Integer> pageSizes = new HashMap<>();
    private int ties = 1;
    private double activity = 0.0;
    private Clock clock = Clock.systemUTC();
    private long latencyMs = 0;
    private int rateLimit = 0;
    private SourceHttpServer.Timer latencyTimer = SourceHttpServer.Timer.SCHEDULER;
    private long bodyTimeoutMs = 10_000;

    private Builder() {}

    /** 0 = ephemeral (the default for the builder; the CLI defaults to 8080). */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be in [0, 65535]: " + port);
      }
      this.port = port;
      return this;
    }

    public Builder bind(String host) {
      this.bind = Objects.requireNonNull(host);
      return this;
    }

    /** Seed volume of one table; unspecified tables keep their default volume. */
    public Builder rows(String table, long count) {
      if (Tables.byName(table) == null) {
        throw new IllegalArgumentException("unknown table: " + table);
      }
      if (count < 0) {
        throw new IllegalArgumentException("rows must be >= 0: " + table + "=" + count);
      }
      rows.put(table, count);
      return this;
    }

    public Builder errorRate(double rate) {
      this.errorRate = checkRate(rate, "error rate");
      return this;
    }

    public Builder nullRate(double rate) {
      this.nullRate = checkRate(rate, "null rate");
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder baseTime(Instant base) {
      this.baseTime = Objects.requireNonNull(base);
      return this;
    }

    /** Overrides the contract's max page size for one table (events: min(limit, this)). */
    public Builder pageSize(String table, int size) {
      if (Tables.byName(table) == null) {
        throw new IllegalArgumentException("unknown table: " + table);
      }
      if (size < 1) {
        throw new IllegalArgumentException("page size must be >= 1: " + table + "=" + size);
      }
      pageSizes.put(table, size);
      return this;
    }

    /** K consecutive seed records share each cursor value (cursor uses floor(i / K)). */
    public Builder ties(int k) {
      if (k < 1) {
        throw new IllegalArgumentException("ties must be >= 1: " + k);
      }
      this.ties = k;
      return this;
    }

    /** Background writes per second (0 = none). */
    public Builder activity(double writesPerSecond) {
      if (!(writesPerSecond >= 0) || Double.isInfinite(writesPerSecond)) {
        throw new IllegalArgumentException("activity must be >= 0: " + writesPerSecond);
      }
      this.activity = writesPerSecond;
      return this;
    }

    /**
     * Delay added before every response, like a remote API's round trip (0 = none). Waited out
     * by a timer, not a thread, so any number of calls can be waiting at once.
     */
    public Builder latencyMs(long ms) {
      if (ms < 0) {
        throw new IllegalArgumentException("latency must be >= 0 ms: " + ms);
      }
      this.latencyMs = ms;
      return this;
    }

    /**
     * Calls per second allowed per username (0 = unlimited); beyond it {@code 429} with
     * {@code Retry-After}. A token bucket with a burst of the same size, on {@link #clock}.
     */
    public Builder rateLimit(int callsPerSecond) {
      if (callsPerSecond < 0) {
        throw new IllegalArgumentException("rate limit must be >= 0 calls per second: " + callsPerSecond);
      }
      this.rateLimit = callsPerSecond;
      return this;
    }

    /** What waits out {@link #latencyMs}: {@link SourceHttpServer.Timer#SCHEDULER}; tests substitute a manual one. */
    Builder latencyTimer(SourceHttpServer.Timer timer) {
      this.latencyTimer = Objects.requireNonNull(timer);
      return this;
    }

    /** How long a request body may take to arrive before the connection is closed (default 10 s). */
    Builder bodyTimeoutMs(long ms) {
      if (ms < 1) {
        throw new IllegalArgumentException("body timeout must be >= 1 ms: " + ms);
      }
      this.bodyTimeoutMs = ms;
      return this;
    }

    /** The source's clock: write stamps, the HTTP Date header and the rate limit. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock);
      return this;
    }

    /** Starts the server. @throws UncheckedIOException if the port cannot be bound */
    public ExampleSource start() {
      try {
        return new ExampleSource(this);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start the Example source on " + bind + ":" + port, e);
      }
    }
  }
}
