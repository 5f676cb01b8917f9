package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's progress line (issue 15.6): with --progressIntervalSeconds=1, a run prints per-table
 * counts while it runs. Deterministic: users are served one a page, so a read asks for a page
 * from user 30's cursor on; the source holds that request until the test has seen a progress line
 * with a non-zero users count, so the line must come from the running job. At two calls in
 * flight, the 37 pages are four sub-ranges in two groups: the group without user 30 ends, and its
 * bundle commits its count, while the other's call is held.
 */
class ProgressLineTest {
  /** User i's cursor is the source's base time + i minutes. */
  static final Instant HOLD_FROM = Instant.parse("2024-01-01T00:30:00Z");

  private static final Pattern USERS_LINE = Pattern.compile("^\\[ *\\d+s\\]  users (\\d+)$");

  @TempDir Path dir;

  /** Lines written to it, and a latch released by the first progress line counting users. */
  private static final class Watched extends OutputStream {
    final ByteArrayOutputStream all = new ByteArrayOutputStream();
    final CountDownLatch sawUsers = new CountDownLatch(1);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    @Override
    public synchronized void write(int b) {
      all.write(b);
      if (b != '\n') {
        line.write(b);
        return;
      }
      Matcher m = USERS_LINE.matcher(line.toString(StandardCharsets.UTF_8));
      if (m.matches() && Long.parseLong(m.group(1)) > 0) {
        sawUsers.countDown();
      }
      line.reset();
    }
  }

  @Test
  void aRunningJobPrintsProgressLinesWithPerTableCounts() throws Exception {
    Watched out = new Watched();
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0.0).pageSize("users", 1).start()) {
      source.setRequestListener((method, path, query) -> {
        if (path.equals("/tables/users/records") && !since(query).isBefore(HOLD_FROM)) {
          awaitQuietly(out.sawUsers);
        }
      });
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      h.write("connections/test_connection.json", "{\"username\": \"u\", \"password\": \"pw\", \"base_url\": \""
          + source.baseUrl() + "\", \"max_concurrent_requests\": 2}");
      Path spec = h.spec("users.json", "\"source_table\": \"users\"");
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int exit = IngestMain.run(
          new String[] {"--spec=" + spec, "--outputRoot=" + h.output, "--runnerConfig=" + ProjectFiles.runnerConfig("direct"),
              "--progressIntervalSeconds=1"},
          new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
          .exitCode();
      String printed = out.all.toString(StandardCharsets.UTF_8);
      assertEquals(0, exit, () -> printed + err);
      assertEquals(0, out.sawUsers.getCount(), () -> "no progress line with a users count:\n" + printed);
      Matcher first = Pattern.compile("(?m)^\\[ *\\d+s\\]  users ([1-9]\\d*)$").matcher(printed);
      assertTrue(first.find(), printed);
      assertTrue(Long.parseLong(first.group(1)) < 37, () -> "the line was printed before the read ended:\n" + printed);
      assertTrue(printed.matches("(?s).*\nmain\\.example\\.users +cdc +scd_type_1 +37 .*"), printed);
    }
  }

  /** The {@code since} of a records call (the first call has none: the oldest records). */
  static Instant since(String query) {
    for (String param : query == null ? new String[0] : query.split("&")) {
      if (param.startsWith("since=")) {
        return OffsetDateTime.parse(URLDecoder.decode(param.substring(6), StandardCharsets.UTF_8)).toInstant();
      }
    }
    return Instant.MIN;
  }

  /** Bounded: if no line ever comes the run goes on, and the assertions above say why. */
  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(2, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
