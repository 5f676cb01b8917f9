package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.Timestamps;
import com.example.connector.client.RawHttpServer;
import com.example.testing.ChildProcess;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12.11: a 400,000-record page (about 60 MB) is read in a heap far smaller than the page,
 * because the client parses it as a stream and the reader holds one tie group at a time. The
 * page is generated on the fly by a server in this JVM and read by the real read DoFn in a child
 * JVM with {@value #HEAP}; a reader that held the page would run out of memory there.
 */
class LargePageMemoryTest {
  private static final int RECORDS = 400_000;
  private static final int TIES = 4; // records per cursor value
  private static final String HEAP = "-Xmx64m";
  private static final long BASE = Timestamps.toMicros(Instant.parse("2024-01-01T00:00:00Z"));

  @TempDir Path dir;

  /** One page of users, {@code next_page} null, written as it is generated; the body ends at close. */
  private static void writePage(OutputStream socket) throws IOException {
    OutputStream out = new BufferedOutputStream(socket, 1 << 16);
    out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"records\": ["
        .getBytes(StandardCharsets.US_ASCII));
    for (int i = 0; i < RECORDS; i++) {
      String record = (i == 0 ? "" : ", ")
          + "{\"user_id\": \"user_" + String.format("%07d", i) + "\", \"email\": \"user" + i
          + "@example.com\", \"display_name\": \"User number " + i + "\", \"status\": \"active\", \"updated_at\": \""
          + Timestamps.formatMicros(BASE + (i / TIES) * 1_000_000L) + "\"}";
      out.write(record.getBytes(StandardCharsets.US_ASCII));
    }
    out.write("], \"next_page\": null}".getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  @Test
  void aPageFarLargerThanTheHeapIsReadInChunks() throws Exception {
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> writePage(out))) {
      ChildProcess.Result child = ChildProcess.runJava(List.of(HEAP), LargePageRead.class.getName(),
          List.of(server.baseUrl().toString()), dir.resolve("child.log"),
          Duration.ofMinutes(5)); // a guard against a hang, not a measure
      String output = child.output();
      assertFalse(child.timedOut(), "the child did not finish: " + output);
      assertEquals(0, child.exitCode(), output);
      assertTrue(output.contains("records " + RECORDS + " outputs "), output);
      long largest = Long.parseLong(output.replaceAll("(?s).*largest (\\d+).*", "$1"));
      assertTrue(largest <= SourceReadFn.CHUNK_ROWS, "rows leave in chunks: " + output);
      assertEquals(1, server.requests().size());
    }
  }
}
