package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.client.RawHttpServer;
import com.example.connector.read.LargePageRead.Read;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
      Path log = dir.resolve("child.log");
      ProcessBuilder command =
          new ProcessBuilder(
                  List.of(javaBin(), HEAP, LargePageRead.class.getName(), server.baseUrl().toString(), read.name()))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      command.environment().put("CLASSPATH", classpath()); // may be longer than an argument can be
      Process child = command.start();
      boolean done = child.waitFor(5, TimeUnit.MINUTES); // a guard against a hang, not a measure
      if (!done) {
        child.destroyForcibly().waitFor();
      }
      String output = Files.readString(log);
      assertTrue(done, "the child did not finish: " + output);
      assertEquals(0, child.exitValue(), output);
      assertTrue(output.contains("records " + RECORDS + " outputs "), output);
      long largest = Long.parseLong(output.replaceAll("(?s).*largest (\\d+).*", "$1"));
      assertTrue(largest <= SourceReadFn.CHUNK_ROWS, "rows leave in chunks: " + output);
      assertEquals(1, server.requests().size(), "one request, no probe: " + server.requests());
    }
  }

  private static String javaBin() {
    return ProcessHandle.current().info().command().orElseThrow();
  }

  /** This JVM's test classpath (surefire names it in a property when it runs from a manifest jar). */
  private static String classpath() {
    String surefire = System.getProperty("surefire.test.class.path");
    return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
  }
}
