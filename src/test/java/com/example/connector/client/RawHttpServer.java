package com.example.connector.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A misbehaving HTTP/1.1 server for tests, written at the byte level so that a test controls
 * every header (the JDK's server rewrites {@code Date}) and can cut a body mid-way. Each
 * connection serves one request and is closed; requests are answered one at a time, in order, by
 * a {@link Responder} that writes the whole response, status line included.
 */
public final class RawHttpServer implements AutoCloseable {

  /** Writes the response to the {@code n}-th request (from 1), status line, headers and body. */
  @FunctionalInterface
  public interface Responder {
    void respond(int n, String requestLine, OutputStream out) throws IOException;
  }

  private final ServerSocket socket;
  private final Responder responder;
  private final List<String> requests = new ArrayList<>();
  private final Thread thread;

  public RawHttpServer(Responder responder) {
    this.responder = responder;
    try {
      this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.thread = new Thread(this::serve, "raw-http-server");
    thread.setDaemon(true);
    thread.start();
  }

  /** A complete response with {@code Content-Length}. */
  public static byte[] response(int status, String contentType, String body, String... headers) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder("HTTP/1.1 " + status + " X\r\n");
    head.append("Content-Type: ").append(contentType).append("\r\n");
    head.append("Content-Length: ").append(bytes.length).append("\r\n");
    for (String h : headers) {
      head.append(h).append("\r\n");
    }
    head.append("Connection: close\r\n\r\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(head.toString().getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(bytes);
    return out.toByteArray();
  }

  /** A JSON {@code 200} with {@code Content-Length}. */
  public static byte[] json(String body, String... headers) {
    return response(200, "application/json", body, headers);
  }

  public URI baseUrl() {
    return URI.create("http://127.0.0.1:" + socket.getLocalPort());
  }

  /** The request lines received so far ({@code GET /path?query HTTP/1.1}). */
  public synchronized List<String> requests() {
    return List.copyOf(requests);
  }

  private void serve() {
    while (!socket.isClosed()) {
      try (Socket connection = socket.accept()) {
        String requestLine = readHead(connection.getInputStream());
        int n;
        synchronized (this) {
          requests.add(requestLine);
          n = requests.size();
        }
        OutputStream out = connection.getOutputStream();
        responder.respond(n, requestLine, out);
        out.flush();
      } catch (IOException e) {
        // closed by close(), or the client went away: serve the next connection
      }
    }
  }

  /** Reads the request head up to the blank line; returns its first line. */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0; // of "\r\n\r\n"
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed before the request head ended");
      }
      head.write(b);
      matched = (b == '\r' && matched % 2 == 0) || (b == '\n' && matched % 2 == 1) ? matched + 1 : 0;
    }
    String text = head.toString(StandardCharsets.US_ASCII);
    return text.substring(0, text.indexOf("\r\n"));
  }

  @Override
  public void close() {
    try {
      socket.close();
      thread.join();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
