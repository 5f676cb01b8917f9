package com.example.crash;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The simulated source over plain HTTP ({@code java.net.http}, not the connector's client), for
 * the crash trials: their writes, and the source's own state they check the tables against. A call
 * the source refused with an injected fault ({@code 429}, {@code 500}, {@code 503}: decided before
 * any effect) is made again, so a write applies once.
 */
final class SourceHttp {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<Integer> FAULTS = Set.of(429, 500, 503);
  private static final int MAX_ATTEMPTS = 50;

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final URI base;
  private final String auth = "Basic " + Base64.getEncoder().encodeToString("trials:trials".getBytes(StandardCharsets.UTF_8));

  SourceHttp(URI base) {
    this.base = base;
  }

  /** Every current row of a table, page by page: consistent only while nothing writes. */
  List<ObjectNode> rows(String table) {
    List<ObjectNode> rows = new ArrayList<>();
    for (int page = 1; page > 0; ) {
      JsonNode body = call(request(table + "/records?page=" + page).GET());
      body.get("records").forEach(r -> rows.add((ObjectNode) r));
      page = body.get("next_page").isNull() ? 0 : body.get("next_page").asInt();
    }
    return rows;
  }

  /** The type of each column of a table as the source's schema endpoint names it ({@code timestamp}, ...). */
  Map<String, String> columnTypes(String table) {
    Map<String, String> types = new LinkedHashMap<>();
    call(request(table + "/schema").GET()).get("schema")
        .forEach(f -> types.put(f.get("name").asText(), f.get("type").asText()));
    return types;
  }

  /** {@code POST}: the record as stored, with the cursor the source stamped it with. */
  ObjectNode upsert(String table, Map<String, ?> record) {
    try {
      return (ObjectNode) call(request(table + "/records").header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(record)))).get("record");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code DELETE} of a record (orders only): its tombstone. */
  ObjectNode delete(String table, String key) {
    return (ObjectNode) call(request(table + "/records/" + URLEncoder.encode(key, StandardCharsets.UTF_8)).DELETE())
        .get("record");
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(base + "/tables/" + path)).header("Authorization", auth);
  }

  private JsonNode call(HttpRequest.Builder builder) {
    HttpRequest request = builder.build();
    try {
      for (int attempt = 1; ; attempt++) {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200 || response.statusCode() == 201) {
          return JSON.readTree(response.body());
        }
        if (!FAULTS.contains(response.statusCode()) || attempt == MAX_ATTEMPTS) {
          throw new IllegalStateException(request.method() + " " + request.uri() + " answered "
              + response.statusCode() + ": " + response.body());
        }
        Thread.sleep(10); // the faults are random, not load: no need to back off further
      }
    } catch (IOException e) {
      // Not retried: a write whose answer was lost may have applied.
      throw new UncheckedIOException(request.method() + " " + request.uri(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + request.method() + " " + request.uri(), e);
    }
  }
}
