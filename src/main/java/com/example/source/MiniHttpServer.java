package com.example.source;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 server (keep-alive, Content-Length and chunked request bodies, one pooled
 * thread per connection).
 *
 * <p>Why not {@code com.sun.net.httpserver.HttpServer}: it unconditionally overwrites the
 * {@code Date} response header with the JVM's wall clock, and this source must send a {@code Date}
 * taken from its injectable {@link Clock}. Every response written here carries exactly one
 * {@code Date} header read from that clock.
 */
final class MiniHttpServer implements Closeable {
  static final int MAX_BODY = 1 << 20;
  private static final int MAX_LINE = 16 * 1024;
  private static final int MAX_HEADERS = 200;
  private static final int IDLE_TIMEOUT_MS = 120_000;

  static final class Request {
    final String method;
    final String target; // as sent: path plus optional ?query
    final String rawPath;
    final String rawQuery; // null if absent
    final Map<String, String> headers; // lower-case names, first value
    final byte[] body;

    Request(String method, String target, Map<String, String> headers, byte[] body) {
      this.method = method;
      this.target = target;
      int q = target.indexOf('?');
      this.rawPath = q < 0 ? target : target.substring(0, q);
      this.rawQuery = q < 0 ? null : target.substring(q + 1);
      this.headers = headers;
      this.body = body;
    }
  }

  static final class Response {
    final int status;
    final byte[] body;
    final List<String[]> headers = new ArrayList<>();

    Response(int status, byte[] body) {
      this.status = status;
      this.body = body;
    }

    Response header(String name, String value) {
      headers.add(new String[] {name, value});
      return this;
    }
  }

  interface Handler {
    Response handle(Request request);
  }

  private final Handler handler;
  private final Clock clock;
  private final ServerSocket serverSocket;
  private final ExecutorService pool;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile boolean closed;

  MiniHttpServer(InetAddress bind, int port, Handler handler, Clock clock) throws IOException {
    this.handler = handler;
    this.clock = clock;
    this.serverSocket = new ServerSocket();
    serverSocket.setReuseAddress(true);
    serverSocket.bind(new InetSocketAddress(bind, port), 256);
    AtomicInteger n = new AtomicInteger();
    this.pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "source-http-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.acceptor = new Thread(this::acceptLoop, "source-http-accept");
    acceptor.setDaemon(true);
  }

  void start() {
    acceptor.start();
  }

  int port() {
    return serverSocket.getLocalPort();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket s = serverSocket.accept();
        if (closed) {
          s.close();
          break;
        }
        open.add(s);
        pool.execute(() -> serve(s));
      } catch (IOException e) {
        if (closed) return;
      } catch (RuntimeException e) { // pool rejected: shutting down
        return;
      }
    }
  }

  private void serve(Socket s) {
    try (s) {
      s.setTcpNoDelay(true);
      s.setSoTimeout(IDLE_TIMEOUT_MS);
      InputStream in = new BufferedInputStream(s.getInputStream(), 16 * 1024);
      OutputStream out = new BufferedOutputStream(s.getOutputStream(), 64 * 1024);
      while (!closed) {
        String line;
        try {
          line = readLine(in);
        } catch (SocketTimeoutException | EOFException e) {
          return;
        }
        if (line == null) return;
        if (line.isEmpty()) continue; // tolerate stray CRLF between requests
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.") || parts[0].isEmpty() || parts[1].isEmpty()) {
          write(out, error(400, "malformed request line"), false);
          return;
        }
        String method = parts[0];
        String target = parts[1];
        String version = parts[2];
        Map<String, String> headers = new HashMap<>();
        int count = 0;
        while (true) {
          String h = readLine(in);
          if (h == null) return;
          if (h.isEmpty()) break;
          if (++count > MAX_HEADERS) {
            write(out, error(431, "too many headers"), false);
            return;
          }
          int c = h.indexOf(':');
          if (c <= 0) {
            write(out, error(400, "malformed header line"), false);
            return;
          }
          headers.putIfAbsent(h.substring(0, c).trim().toLowerCase(Locale.ROOT), h.substring(c + 1).trim());
        }
        String connection = headers.getOrDefault("connection", "");
        boolean keepAlive = version.equals("HTTP/1.1")
            ? !connection.equalsIgnoreCase("close")
            : connection.equalsIgnoreCase("keep-alive");
        if (target.startsWith("http://") || target.startsWith("https://")) { // absolute form
          int slash = target.indexOf('/', target.indexOf("//") + 2);
          target = slash < 0 ? "/" : target.substring(slash);
        }
        if ("100-continue".equalsIgnoreCase(headers.get("expect"))) {
          out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        }
        byte[] body;
        String te = headers.get("transfer-encoding");
        if (te != null && !te.equalsIgnoreCase("identity")) {
          if (!te.toLowerCase(Locale.ROOT).endsWith("chunked")) {
            write(out, error(501, "unsupported transfer-encoding"), false);
            return;
          }
          body = readChunked(in);
          if (body == null) {
            write(out, error(413, "request body too large"), false);
            return;
          }
        } else {
          String cl = headers.get("content-length");
          long len = 0;
          if (cl != null) {
            try {
              len = Long.parseLong(cl);
            } catch (NumberFormatException e) {
              len = -1;
            }
            if (len < 0) {
              write(out, error(400, "malformed Content-Length"), false);
              return;
            }
            if (len > MAX_BODY) {
              write(out, error(413, "request body too large"), false);
              return;
            }
          }
          body = in.readNBytes((int) len);
          if (body.length != len) return;
        }
        Response r;
        try {
          r = handler.handle(new Request(method, target, headers, body));
        } catch (RuntimeException | Error e) {
          r = error(500, "internal error: " + e);
        }
        write(out, r, keepAlive, !method.equals("HEAD"));
        if (!keepAlive) return;
      }
    } catch (IOException e) {
      // connection dropped
    } finally {
      open.remove(s);
    }
  }

  static Response error(int status, String message) {
    return new Response(status, Json.error(message));
  }

  private void write(OutputStream out, Response r, boolean keepAlive) throws IOException {
    write(out, r, keepAlive, true);
  }

  /** Writes one response; a HEAD request gets the headers only (RFC 9110). */
  private void write(OutputStream out, Response r, boolean keepAlive, boolean withBody) throws IOException {
    StringBuilder sb = new StringBuilder(256);
    sb.append("HTTP/1.1 ").append(r.status).append(' ').append(reason(r.status)).append("\r\n");
    sb.append("Date: ").append(Timestamps.httpDate(clock.instant())).append("\r\n");
    sb.append("Content-Type: application/json\r\n");
    sb.append("Content-Length: ").append(r.body.length).append("\r\n");
    sb.append("Connection: ").append(keepAlive ? "keep-alive" : "close").append("\r\n");
    for (String[] h : r.headers) sb.append(h[0]).append(": ").append(h[1]).append("\r\n");
    sb.append("\r\n");
    out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (withBody) out.write(r.body);
    out.flush();
  }

  /** A CRLF (or LF) terminated line, without the terminator; null at EOF before any byte. */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(128);
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        byte[] a = buf.toByteArray();
        int len = a.length > 0 && a[a.length - 1] == '\r' ? a.length - 1 : a.length;
        return new String(a, 0, len, StandardCharsets.ISO_8859_1);
      }
      buf.write(b);
      if (buf.size() > MAX_LINE) throw new IOException("line too long");
    }
    if (buf.size() == 0) return null;
    throw new EOFException();
  }

  /** The de-chunked body, or null if it exceeds MAX_BODY. */
  private static byte[] readChunked(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String line = readLine(in);
      if (line == null) throw new EOFException();
      int semi = line.indexOf(';');
      int size;
      try {
        size = Integer.parseInt((semi < 0 ? line : line.substring(0, semi)).trim(), 16);
      } catch (NumberFormatException e) {
        throw new IOException("bad chunk size");
      }
      if (size < 0 || body.size() + (long) size > MAX_BODY) return null;
      if (size == 0) {
        String trailer;
        do {
          trailer = readLine(in);
        } while (trailer != null && !trailer.isEmpty());
        return body.toByteArray();
      }
      byte[] chunk = in.readNBytes(size);
      if (chunk.length != size) throw new EOFException();
      body.write(chunk);
      readLine(in); // CRLF after the chunk
    }
  }

  private static String reason(int status) {
    switch (status) {
      case 200: return "OK";
      case 201: return "Created";
      case 400: return "Bad Request";
      case 401: return "Unauthorized";
      case 404: return "Not Found";
      case 405: return "Method Not Allowed";
      case 409: return "Conflict";
      case 413: return "Payload Too Large";
      case 429: return "Too Many Requests";
      case 431: return "Request Header Fields Too Large";
      case 500: return "Internal Server Error";
      case 501: return "Not Implemented";
      case 503: return "Service Unavailable";
      default: return "Status";
    }
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    try {
      serverSocket.close();
    } catch (IOException ignored) {
      // closing
    }
    for (Socket s : open) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing
      }
    }
    pool.shutdownNow();
    try {
      acceptor.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
