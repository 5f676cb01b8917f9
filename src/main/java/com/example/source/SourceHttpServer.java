package com.example.source;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpContinue;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.xnio.IoUtils;
import org.xnio.Options;

/**
 * The source's HTTP/1.1 server: a thin adapter from Undertow to {@link Handler}.
 *
 * <p>Why not {@code com.sun.net.httpserver.HttpServer}: it unconditionally overwrites the
 * {@code Date} response header with the JVM's wall clock, and this source must send a {@code Date}
 * taken from its injectable {@link Clock}. Undertow's own Date is switched off
 * ({@link UndertowOptions#ALWAYS_SET_DATE}); every response written here carries exactly one
 * {@code Date} read from that clock. URL decoding is off too, so the handler sees the raw,
 * still percent-encoded path and query exactly as sent.
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

  interface Handler {
    ApiResponse handle(ApiRequest request);
  }

  private final Handler handler;
  private final Clock clock;
  private final Undertow undertow;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile int port = -1;

  SourceHttpServer(InetAddress bind, int port, Handler handler, Clock clock) {
    this.handler = handler;
    this.clock = clock;
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
    if (!started.compareAndSet(false, true)) return;
    try {
      undertow.start();
    } catch (RuntimeException e) {
      closed.set(true);
      if (e.getCause() instanceof IOException) throw (IOException) e.getCause();
      throw e;
    }
    port = ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
  }

  /** The bound port (the real one when constructed with 0); valid after {@link #start()}. */
  int port() {
    if (port < 0) throw new IllegalStateException("not started");
    return port;
  }

  private void handleRequest(HttpServerExchange ex) {
    if (ex.isInIoThread()) {
      ex.dispatch(this::handleRequest); // the API handler blocks (store lock, body read)
      return;
    }
    ex.startBlocking();
    try {
      ApiResponse r;
      String te = ex.getRequestHeaders().getLast(Headers.TRANSFER_ENCODING);
      if (te != null && !te.equalsIgnoreCase("identity") && !te.toLowerCase(Locale.ROOT).endsWith("chunked")) {
        ex.setPersistent(false); // Undertow would read such a body until EOF
        write(ex, ApiResponse.error(501, "unsupported transfer-encoding"));
        return;
      }
      byte[] body = readBody(ex);
      if (body == null) {
        ex.setPersistent(false); // the unread body makes the connection unusable
        r = ApiResponse.error(413, "request body too large");
      } else {
        try {
          r = handler.handle(new ApiRequest(ex.getRequestMethod().toString(), target(ex), rawPath(ex), rawQuery(ex),
              headers(ex), body));
        } catch (RuntimeException | Error e) {
          r = ApiResponse.error(500, "internal error: " + e);
        }
      }
      write(ex, r);
    } catch (IOException e) {
      IoUtils.safeClose(ex.getConnection()); // connection dropped mid-request
    }
  }

  /** The whole request body, or null if it exceeds {@link #MAX_BODY}. */
  private static byte[] readBody(HttpServerExchange ex) throws IOException {
    long len = ex.getRequestContentLength();
    if (len == 0 || (len < 0 && !ex.getRequestHeaders().contains(Headers.TRANSFER_ENCODING))) return EMPTY;
    if (len > MAX_BODY) return null;
    if (HttpContinue.requiresContinueResponse(ex)) HttpContinue.sendContinueResponseBlocking(ex);
    InputStream in = ex.getInputStream();
    byte[] body = in.readNBytes(MAX_BODY + 1);
    return body.length > MAX_BODY ? null : body;
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

  /** Writes one response; a HEAD request gets the headers only (RFC 9110). */
  private void write(HttpServerExchange ex, ApiResponse r) throws IOException {
    ex.setStatusCode(r.status);
    HeaderMap h = ex.getResponseHeaders();
    h.put(Headers.DATE, Timestamps.httpDate(clock.instant()));
    h.put(Headers.CONTENT_TYPE, "application/json");
    h.put(Headers.CONTENT_LENGTH, r.body.length);
    for (String[] x : r.headers) h.add(new HttpString(x[0]), x[1]);
    if (!ex.getRequestMethod().equals(Methods.HEAD)) {
      OutputStream out = ex.getOutputStream();
      out.write(r.body);
    }
    ex.endExchange();
  }

  /** Stops accepting and closes open connections; idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    if (started.get()) undertow.stop();
  }
}
