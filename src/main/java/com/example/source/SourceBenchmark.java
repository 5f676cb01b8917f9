package com.example.source;

import com.example.bench.HeapGauge;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Benchmark of the simulated source (not a test): 10,000,000 metrics rows and 1,000,000 of each
 * other table, metrics pages of 100 records read over keep-alive okhttp, sequentially and with
 * two concurrent clients.
 *
 * <pre>
 * MAVEN_OPTS=-Xmx4g mvn -q -o exec:java -Dexec.mainClass=com.example.source.SourceBenchmark -Dexec.args="20000"
 * </pre>
 *
 * Arguments: number of pages per run (default 20000). With {@code --compare-jdk [--jdk-pages N]}
 * it also serves the same handler through {@code com.sun.net.httpserver.HttpServer} (which cannot
 * send the source clock's Date header, see {@link SourceHttpServer}) for N pages (default 500).
 */
public final class SourceBenchmark {
  private SourceBenchmark() {}

  private static final String AUTH = "Basic " + java.util.Base64.getEncoder().encodeToString("bench:bench".getBytes());

  public static void main(String[] args) throws Exception {
    int pages = 20_000;
    boolean compareJdk = false;
    int jdkPages = 500;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--compare-jdk")) {
        compareJdk = true;
      } else if (args[i].equals("--jdk-pages")) {
        jdkPages = Integer.parseInt(args[++i]);
      } else {
        pages = Integer.parseInt(args[i]);
      }
    }
    System.out.printf("max heap %d MB, %d cores%n", Runtime.getRuntime().maxMemory() >> 20,
        Runtime.getRuntime().availableProcessors());
    long t0 = System.nanoTime();
    ExampleSource src = ExampleSource.builder().port(0).errorRate(0.0)
        .rows("products", 1_000_000).rows("events", 1_000_000).rows("users", 1_000_000)
        .rows("orders", 1_000_000).rows("metrics", 10_000_000).start();
    double startupMs = (System.nanoTime() - t0) / 1e6;
    HeapGauge heap = HeapGauge.start();
    long heapAfterStart = heap.reset();
    System.out.printf("startup %.1f ms, heap used after start (after GC) %.1f MB%n", startupMs, heapAfterStart / 1e6);

    List<String[]> rows = new ArrayList<>();
    try {
      String base = src.baseUrl().toString();
      run("warm-up", base, Math.min(pages, 2000), 1, heap); // JIT warm-up, not reported
      rows.add(run("Undertow (SourceHttpServer), 1 client (" + pages + " pages)", base, pages, 1, heap));
      System.out.println(rows.get(rows.size() - 1)[0] + ": " + String.join(" ", rows.get(rows.size() - 1)));
      rows.add(run("Undertow (SourceHttpServer), 2 clients (" + pages + " pages)", base, pages, 2, heap));
      System.out.println(rows.get(rows.size() - 1)[0] + ": " + String.join(" ", rows.get(rows.size() - 1)));
    } finally {
      src.close();
    }
    if (compareJdk) {
      // Without this the JDK server leaves Nagle on and answers ~23 pages/s (40 ms delayed-ACK
      // stalls per keep-alive request); with it the comparison is fair. Read once, at class init.
      System.setProperty("sun.net.httpserver.nodelay", "true");
      Store store = new Store(new SeedData(42, 0.2, Timestamps.micros(Instant.parse("2024-01-01T00:00:00Z")), 1,
          Map.of("products", 1_000_000L, "events", 1_000_000L, "users", 1_000_000L, "orders", 1_000_000L,
              "metrics", 10_000_000L)), Clock.systemUTC());
      int[] sizes = new int[Tables.ALL.size()];
      for (Tables.Table t : Tables.ALL) {
        sizes[t.id] = t.maxPageSize;
      }
      ApiHandler handler = new ApiHandler(store, sizes, 0.0, null);
      HttpServer jdk = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 256);
      jdk.setExecutor(Executors.newFixedThreadPool(8));
      jdk.createContext("/", ex -> {
        Map<String, String> headers = new HashMap<>();
        ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), v.get(0)));
        byte[] body = ex.getRequestBody().readAllBytes();
        String target = ex.getRequestURI().getRawPath()
            + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery());
        ApiResponse r = handler.serve(ApiRequest.of(ex.getRequestMethod(), target, headers, body));
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(r.status, r.body.length);
        try (OutputStream out = ex.getResponseBody()) {
          out.write(r.body);
        }
      });
      jdk.start();
      try {
        String base = "http://127.0.0.1:" + jdk.getAddress().getPort();
        run("warm-up", base, Math.min(jdkPages, 100), 1, heap);
        rows.add(run("jdk HttpServer, 1 client (" + jdkPages + " pages)", base, jdkPages, 1, heap));
        rows.add(run("jdk HttpServer, 2 clients (" + jdkPages + " pages)", base, jdkPages, 2, heap));
      } finally {
        jdk.stop(0);
        ((ExecutorService) jdk.getExecutor()).shutdownNow();
      }
    }
    System.out.printf("%n| run | pages/s | records/s | MB/s | peak heap MB |%n|---|---|---|---|---|%n");
    for (String[] r : rows) {
      System.out.printf("| %s | %s | %s | %s | %s |%n", (Object[]) r);
    }
    System.out.printf("%nstartup %.1f ms; heap after start %.1f MB; peak heap over all runs %.1f MB%n",
        startupMs, heapAfterStart / 1e6, heap.peakUsed() / 1e6);
    System.exit(0);
  }

  private static String[] run(String name, String base, int pages, int clients, HeapGauge heap) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<long[]>> futures = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int c = 0; c < clients; c++) {
      final int client = c;
      final int n = pages / clients;
      futures.add(pool.submit((Callable<long[]>) () -> {
        OkHttpClient http = new OkHttpClient();
        long records = 0;
        long bytes = 0;
        for (int j = 0; j < n; j++) {
          long k = (long) j * clients + client;
          // pages spread over the 10M-row table: a since somewhere in the table, then page 1..10
          long minute = (k * 7_919L) % 9_900_000L;
          String since = Timestamps.format(Timestamps.micros(Instant.parse("2024-01-01T00:00:00Z")) + minute * 60_000_000L)
              .replace("+", "%2B");
          String url = base + "/tables/metrics/records?since=" + since + "&page=" + (1 + k % 10);
          try (Response r = http.newCall(new Request.Builder().url(url).header("Authorization", AUTH).build()).execute()) {
            byte[] body = r.body().bytes();
            if (r.code() != 200) {
              throw new IOException("status " + r.code() + ": " + new String(body));
            }
            bytes += body.length;
            records += count(body);
          }
        }
        http.connectionPool().evictAll();
        http.dispatcher().executorService().shutdown();
        return new long[] {n, records, bytes};
      }));
    }
    long p = 0;
    long rec = 0;
    long bytes = 0;
    for (Future<long[]> f : futures) {
      long[] r = f.get();
      p += r[0];
      rec += r[1];
      bytes += r[2];
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    pool.shutdown();
    return new String[] {name, String.format("%.0f", p / secs), String.format("%.0f", rec / secs),
        String.format("%.1f", bytes / secs / 1e6), String.format("%.0f", heap.peakUsed() / 1e6)};
  }

  /** Records in a page body: occurrences of the key field. */
  private static int count(byte[] body) {
    byte[] needle = "\"metric_id\"".getBytes();
    int n = 0;
    outer:
    for (int i = 0; i + needle.length <= body.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (body[i + j] != needle[j]) {
          continue outer;
        }
      }
      n++;
    }
    return n;
  }
}
