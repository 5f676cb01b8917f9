package com.example.source;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.io.IoCallback;
import io.undertow.io.Receiver;
import io.undertow.io.Sender;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpContinue;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import io.undertow.util.SameThreadExecutor;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.xnio.IoUtils;
import org.xnio.Options;
import org.xnio.XnioExecutor;

/**
 * The source's HTTP/1.1 server: a thin adapter from Undertow to {@link Handler}.
 *
 * <p>Why not {@code com.sun.net.httpserver.HttpServer}: it unconditionally overwrites the
 * {@code Date} response header with the JVM's wall clock, and this source must send a {@code Date}
 * taken from its injectable {@link Clock}. Undertow's own Date is switched off
 * ({@link UndertowOptions#ALWAYS_SET_DATE}); every response written here carries exactly one
 * {@code Date} read from that clock. URL decoding is off too, so the handler sees the raw,
 * still percent-encoded path and query exactly as sent.
 *
 * <p>No thread ever waits on a client: the I/O threads parse headers, a worker decides whether
 * the request is admitted (before any body is read, see {@link Handler#admit}), bodies are
 * received asynchronously with a deadline, and the configured latency is waited out by a timer
 * while the exchange is parked. So stalled uploads and slow responses cost a connection each, not
 * one of the few worker threads.
 */
final class SourceHttpServer implements Closeable {
  static final int MAX_BODY = 1 << 20;
  private static final int IDLE_TIMEOUT_MS = 120_000;
  private static final byte[] EMPTY = new byte[0];

  static {
    // Undertow/XNIO log through jboss-logging, which would pick java.util.logging here (it only
    // chooses slf4j by itself next to Logback). Route it to slf4j(-simple) unless configured.
    if (System.getProperty("org.jboss.logging.provider") == null) {
      System.setProperty("org.jboss.logging.provider", "slf4j");
    }
  }

  /** The API, in two steps so that a refused request never has its body read. */
  interface Handler {
    /**
     * A response decided from the request line and headers alone (sent without reading any
     * body), or null to receive the body and call {@link #handle}.
     */
    ApiResponse admit(ApiRequest head);

    /** The response to an admitted request, body included. */
    ApiResponse handle(ApiRequest request);

    /** Both steps, for a request whose body is already at hand. */
    default ApiResponse serve(ApiRequest request) {
      ApiResponse refused = admit(request);
      return refused != null ? refused : handle(request);
    }
  }

  /** Runs a task after a delay without any thread waiting for it. */
  @FunctionalInterface
  interface Timer {
    /**
     * One daemon thread's schedule, shared by the JVM's servers; the task (the send) runs on that
     * thread. Not the exchange's own I/O thread timer: XNIO 3.8's {@code executeAfter} from a
     * worker wakes the selector only if it is already polling, and the I/O thread decides on an
     * untimed select before it says it polls, so a task added in between waits for the
     * selector's next event, which a client waiting for its answer never brings (seen: a
     * sequential client's call unanswered until its 60 s read timeout, once in about 17,000).
     */
    Timer SCHEDULER = LatencyScheduler::after;

    void after(HttpServerExchange ex, long delayMs, Runnable task);
  }

  /** The thread behind {@link Timer#SCHEDULER}: a task per parked response, none waiting. */
  private static final class LatencyScheduler {
    private static final ScheduledExecutorService THREAD = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "source-latency");
      t.setDaemon(true);
      return t;
    });

    static void after(HttpServerExchange ex, long delayMs, Runnable task) {
      THREAD.schedule(task, delayMs, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * @param latencyMs added before every response, 0 for none
   * @param latencyTimer waits out the latency
   * @param bodyTimeoutMs a request body not complete by then gets its connection closed
   */
  record Timing(long latencyMs, Timer latencyTimer, long bodyTimeoutMs) {}

  private final Handler handler;
  private final Clock clock;
  private final Timing timing;
  private final Undertow undertow;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile int port = -1;

  SourceHttpServer(InetAddress bind, int port, Handler handler, Clock clock, Timing timing) {
    this.handler = handler;
    this.clock = clock;
    this.timing = timing;
    HttpHandler root = this::handleRequest;
    this.undertow = Undertow.builder()
        .addHttpListener(port, bind.getHostAddress())
        .setServerOption(UndertowOptions.ALWAYS_SET_DATE, false)
        .setServerOption(UndertowOptions.DECODE_URL, false)
        .setServerOption(UndertowOptions.ALLOW_ENCODED_SLASH, true)
        .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, IDLE_TIMEOUT_MS)
        .setServerOption(UndertowOptions.SHUTDOWN_TIMEOUT, 0) // close() drops open connections at once
        .setSocketOption(Options.TCP_NODELAY, true)
        .setSocketOption(Options.REUSE_ADDRESSES, true)
        .setHandler(root)
        .build();
  }

  /** Binds and starts serving. */
  void start() throws IOException {
    if (!started.compareAndSet(false, true)) {
      return;
    }
    try {
      undertow.start();
    } catch (RuntimeException e) {
      closed.set(true);
      if (e.getCause() instanceof IOException) {
        throw (IOException) e.getCause();
      }
      throw e;
    }
    port = ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
  }

  /** The bound port (the real one when constructed with 0); valid after {@link #start()}. */
  int port() {
    if (port < 0) {
      throw new IllegalStateException("not started");
    }
    return port;
  }

  /** On the I/O thread: refuses a body it cannot frame, hands everything else to a worker. */
  private void handleRequest(HttpServerExchange ex) {
    String te = ex.getRequestHeaders().getLast(Headers.TRANSFER_ENCODING);
    if (te != null && !te.equalsIgnoreCase("identity") && !te.toLowerCase(Locale.ROOT).endsWith("chunked")) {
      ex.setPersistent(false); // Undertow would read such a body until EOF
      respond(ex, ApiResponse.error(501, "unsupported transfer-encoding"));
      return;
    }
    ex.dispatch(this::admit); // the request listener and the store lock may block: not on the I/O thread
  }

  /**
   * On a worker: rate limit, faults and authentication are decided before any body is read, so
   * a refused client cannot make the server wait for its body; an admitted body is received
   * without holding this thread.
   */
  private void admit(HttpServerExchange ex) {
    ApiRequest head = new ApiRequest(ex.getRequestMethod().toString(), target(ex), rawPath(ex), rawQuery(ex),
        headers(ex), EMPTY);
    if (!hasBody(ex)) {
      respond(ex, guarded(() -> handler.serve(head)));
      return;
    }
    ApiResponse refused = guarded(() -> handler.admit(head));
    if (refused != null) {
      ex.setPersistent(false); // the unread body makes the connection unusable
      respond(ex, refused);
    } else if (HttpContinue.requiresContinueResponse(ex)) {
      // parked while the interim response goes out: it may complete later, on the I/O thread
      ex.dispatch(SameThreadExecutor.INSTANCE, () -> HttpContinue.sendContinueResponse(ex, new IoCallback() {
        @Override
        public void onComplete(HttpServerExchange exchange, Sender sender) {
          receiveBody(exchange, head);
        }

        @Override
        public void onException(HttpServerExchange exchange, Sender sender, IOException e) {
          IoUtils.safeClose(exchange.getConnection());
        }
      }));
    } else {
      receiveBody(ex, head);
    }
  }

  private static boolean hasBody(HttpServerExchange ex) {
    long len = ex.getRequestContentLength();
    return len > 0 || (len < 0 && ex.getRequestHeaders().contains(Headers.TRANSFER_ENCODING));
  }

  /**
   * Receives the body asynchronously (no thread waits for a slow client), at most
   * {@link #MAX_BODY} bytes, and closes the connection if it is not complete within the body
   * timeout; then routes it on a worker.
   */
  private void receiveBody(HttpServerExchange ex, ApiRequest head) {
    XnioExecutor.Key timeout = ex.getIoThread().executeAfter(() -> IoUtils.safeClose(ex.getConnection()),
        timing.bodyTimeoutMs(), TimeUnit.MILLISECONDS);
    Receiver receiver = ex.getRequestReceiver();
    receiver.setMaxBufferSize(MAX_BODY);
    receiver.receiveFullBytes((e, body) -> {
      timeout.remove();
      e.dispatch((HttpHandler) x -> respond(x, guarded(() -> handler.handle(head.withBody(body)))));
    }, (e, error) -> {
      timeout.remove();
      if (error instanceof Receiver.RequestToLargeException) {
        e.setPersistent(false); // the rest of the body is never read
        respond(e, ApiResponse.error(413, "request body too large: at most " + MAX_BODY + " bytes"));
      } else {
        IoUtils.safeClose(e.getConnection()); // connection dropped or body timed out
      }
    });
  }

  /**
   * A handler's RuntimeException becomes a 500 with an error body. Errors (OutOfMemoryError,
   * AssertionError, ...) are not the request's fault: they propagate to Undertow, which logs
   * them and answers a bare 500.
   */
  private static ApiResponse guarded(Supplier<ApiResponse> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      return ApiResponse.error(500, "internal error: " + e);
    }
  }

  /** The raw path: origin-form as sent (an absolute-form target is reduced to its path). */
  private static String rawPath(HttpServerExchange ex) {
    String uri = ex.getRequestURI();
    if (ex.isHostIncludedInRequestURI()) {
      int slash = uri.indexOf('/', uri.indexOf("//") + 2);
      uri = slash < 0 ? "/" : uri.substring(slash);
    }
    return uri;
  }

  private static String rawQuery(HttpServerExchange ex) {
    String q = ex.getQueryString();
    return q == null || q.isEmpty() ? null : q;
  }

  private static String target(HttpServerExchange ex) {
    String q = rawQuery(ex);
    return q == null ? rawPath(ex) : rawPath(ex) + "?" + q;
  }

  private static Map<String, String> headers(HttpServerExchange ex) {
    Map<String, String> headers = new HashMap<>();
    for (HeaderValues h : ex.getRequestHeaders()) {
      headers.putIfAbsent(h.getHeaderName().toString().toLowerCase(Locale.ROOT), h.getFirst());
    }
    return headers;
  }

  /**
   * Sends the response after the configured latency. Meanwhile the exchange is parked
   * (dispatched to no thread, so Undertow keeps it open) and the timer holds only a task.
   */
  private void respond(HttpServerExchange ex, ApiResponse r) {
    if (timing.latencyMs() == 0) {
      send(ex, r);
      return;
    }
    ex.dispatch(SameThreadExecutor.INSTANCE, () -> timing.latencyTimer().after(ex, timing.latencyMs(),
        () -> ex.dispatch(SameThreadExecutor.INSTANCE, (HttpHandler) e -> send(e, r))));
  }

  /** Writes one response without blocking; a HEAD request gets the headers only (RFC 9110). */
  private void send(HttpServerExchange ex, ApiResponse r) {
    ex.setStatusCode(r.status);
    HeaderMap h = ex.getResponseHeaders();
    h.put(Headers.DATE, Timestamps.httpDate(clock.instant()));
    h.put(Headers.CONTENT_TYPE, "application/json");
    h.put(Headers.CONTENT_LENGTH, r.body.length);
    for (String[] x : r.headers) {
      h.add(new HttpString(x[0]), x[1]);
    }
    if (ex.getRequestMethod().equals(Methods.HEAD)) {
      ex.endExchange();
    } else {
      ex.getResponseSender().send(ByteBuffer.wrap(r.body));
    }
  }

  /** Stops accepting and closes open connections; idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (started.get()) {
      undertow.stop();
    }
  }
}
