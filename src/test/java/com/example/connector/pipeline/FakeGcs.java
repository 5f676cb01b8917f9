package com.example.connector.pipeline;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tiny GCS JSON API on loopback for offline tests ({@code --gcsEndpoint=}{@link #endpoint()}):
 * the buckets in {@code existing} exist and are empty, the bucket {@code held} never answers
 * (until {@link #close()}), any other bucket is 404. Every object is missing.
 */
final class FakeGcs implements AutoCloseable {
  static final String HELD = "held-bucket";
  private static final Pattern BUCKET = Pattern.compile("/storage/v1/b/([^/?]+)(/o(/[^?]*)?)?");

  private final HttpServer server;
  private final Set<String> existing;
  private final CountDownLatch released = new CountDownLatch(1);

  FakeGcs(Set<String> existing) throws IOException {
    this.existing = Set.copyOf(existing);
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "fake-gcs");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/", this::handle);
    server.start();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/storage/v1/";
  }

  private void handle(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    if (path.startsWith("/batch/")) {
      batchOfMissingObjects(exchange);
      return;
    }
    Matcher m = BUCKET.matcher(path);
    if (!m.matches()) {
      send(exchange, 400, "{\"error\": {\"code\": 400, \"message\": \"unexpected " + path + "\"}}");
    } else if (m.group(1).equals(HELD)) {
      await();
      send(exchange, 503, "{}");
    } else if (!existing.contains(m.group(1)) || m.group(3) != null) {
      send(exchange, 404, "{\"error\": {\"code\": 404, \"message\": \"Not Found\", \"errors\": [{\"reason\": \"notFound\"}]}}");
    } else if (m.group(2) != null) {
      send(exchange, 200, "{\"kind\": \"storage#objects\"}");
    } else {
      send(exchange, 200, "{\"kind\": \"storage#bucket\", \"name\": \"" + m.group(1) + "\"}");
    }
  }

  /** A batch of object lookups ({@code FileSystems.match}): every part answers 404. */
  private static void batchOfMissingObjects(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    int parts = body.split("Content-Type: application/http", -1).length - 1;
    StringBuilder out = new StringBuilder();
    for (int i = 1; i <= parts; i++) {
      out.append("--fake_batch\r\nContent-Type: application/http\r\nContent-ID: <response-").append(i)
          .append(">\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n")
          .append("{\"error\": {\"code\": 404, \"message\": \"Not Found\"}}\r\n");
    }
    out.append("--fake_batch--\r\n");
    exchange.getResponseHeaders().set("Content-Type", "multipart/mixed; boundary=fake_batch");
    byte[] bytes = out.toString().getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(200, bytes.length);
    try (OutputStream os = exchange.getResponseBody()) {
      os.write(bytes);
    }
  }

  private static void send(HttpExchange exchange, int status, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream os = exchange.getResponseBody()) {
      os.write(bytes);
    }
  }

  private void await() {
    try {
      released.await(5, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    released.countDown();
    server.stop(0);
  }
}
