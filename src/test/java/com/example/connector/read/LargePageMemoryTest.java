package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.client.RawHttpServer;
import com.example.connector.read.LargePageRead.Read;
import com.example.testing.ChildProcess;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 12.11: a 400,000-record page (about 60 MB) is read in a heap far smaller than the page,
 * by the cursor read (which holds one tie group at a time) and by the products snapshot (which
 * holds one chunk of rows), because the client parses it as a stream. The page is generated on
 * the fly by a server in this JVM and read by the real read DoFn in a child JVM with {@value
 * #HEAP}; a reader that held the page would run out of memory there.
 */
class LargePageMemoryTest {
  private static final int RECORDS = 400_000;
  private static final String HEAP = "-Xmx64m";

  @TempDir Path dir;

  /** One page of the read's table, {@code next_page} null, written as it is generated; the body ends at close. */
  private static void writePage(Read read, OutputStream socket) throws IOException {
    OutputStream out = new BufferedOutputStream(socket, 1 << 16);
    out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"records\": ["
        .getBytes(StandardCharsets.US_ASCII));
    for (int i = 0; i < RECORDS; i++) {
      out.write(((i == 0 ? "" : ", ") + read.record(i)).getBytes(StandardCharsets.US_ASCII));
    }
    out.write("], \"next_page\": null}".getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  @ParameterizedTest
  @EnumSource(Read.class)
  void aPageFarLargerThanTheHeapIsReadInChunks(Read read) throws Exception {
    try (RawHttpServer server = new RawHttpServer((n, line, out) -> writePage(read, out))) {
      ChildProcess.Result child = ChildProcess.runJava(List.of(HEAP), LargePageRead.class.getName(),
          List.of(server.baseUrl().toString(), read.name()), dir.resolve("child.log"),
          Duration.ofMinutes(5)); // a guard against a hang, not a measure
      String output = child.output();
      assertFalse(child.timedOut(), "the child did not finish: " + output);
      assertEquals(0, child.exitCode(), output);
      assertTrue(output.contains("records " + RECORDS + " outputs "), output);
      long largest = Long.parseLong(output.replaceAll("(?s).*largest (\\d+).*", "$1"));
      assertTrue(largest <= SourceReadFn.CHUNK_ROWS, "rows leave in chunks: " + output);
      assertEquals(1, server.requests().size(), "one request, no probe: " + server.requests());
    }
  }
}
