package com.example.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Test HTTP helper: real requests with Basic auth; bodies parsed as JSON. */
final class Http {
  static final ObjectMapper M = new ObjectMapper();
  static final String AUTH = "Basic " + Base64.getEncoder().encodeToString("user:pass".getBytes(StandardCharsets.UTF_8));
  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  final URI base;

  Http(ExampleSource src) {
    this.base = src.baseUrl();
  }

  static final class Resp {
    final int status;
    final JsonNode json;
    final HttpResponse<String> raw;

    Resp(HttpResponse<String> raw) {
      this.raw = raw;
      this.status = raw.statusCode();
      try {
        this.json = M.readTree(raw.body());
      } catch (IOException e) {
        throw new AssertionError("response body is not JSON: " + raw.body(), e);
      }
    }

    String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }

    @Override
    public String toString() {
      return status + " " + raw.body();
    }
  }

  Resp get(String pathAndQuery) {
    return send(HttpRequest.newBuilder(URI.create(base + pathAndQuery)).header("Authorization", AUTH).GET());
  }

  Resp getWithAuth(String pathAndQuery, String auth) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).GET();
    if (auth != null) {
      b.header("Authorization", auth);
    }
    return send(b);
  }

  Resp post(String path, String body) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", AUTH)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  Resp delete(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", AUTH).DELETE());
  }

  Resp method(String method, String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", AUTH)
        .method(method, HttpRequest.BodyPublishers.noBody()));
  }

  private static Resp send(HttpRequest.Builder b) {
    try {
      return new Resp(CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString()));
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Sends an exact request target over a raw socket; returns "STATUS BODY". */
  String raw(String target) throws IOException {
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      OutputStream out = s.getOutputStream();
      out.write(("GET " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      in.transferTo(buf);
      String resp = buf.toString(StandardCharsets.UTF_8);
      String status = resp.substring(9, 12);
      return status + " " + resp.substring(resp.indexOf("\r\n\r\n") + 4);
    }
  }
}
