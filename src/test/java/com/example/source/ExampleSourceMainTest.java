package com.example.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.testing.ChildProcess;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExampleSourceMainTest {
  private static final String MAIN = "com.example.source.ExampleSourceMain";

  @TempDir Path dir;

  @Test
  void parsesEveryFlag() {
    assertNull(ExampleSourceMain.parse(new String[] {"--help"}));
    ExampleSource.Builder b = ExampleSourceMain.parse(new String[] {"--port", "0", "--bind", "127.0.0.1",
        "--rows", "products=5,events=6,users=7,orders=8,metrics=9", "--error-rate", "0", "--null-rate=0.5",
        "--page-size", "users=2", "--seed", "9", "--base-time", "2025-01-01T00:00:00+02:00", "--ties", "2", "--activity", "0"});
    try (ExampleSource s = b.start()) {
      Http h = new Http(s);
      assertEquals(2, h.get("/tables/users/records").json.get("records").size());
      assertEquals(7, ConformanceTestAccess.count(h, "/tables/users/records"));
      assertEquals(9, ConformanceTestAccess.count(h, "/tables/metrics/records"));
      assertEquals("2024-12-31T22:00:00.000000+00:00",
          h.get("/tables/users/records").json.get("records").get(1).get("updated_at").asText());
    }
  }

  @Test
  void latencyAndRateLimitFlags() {
    ExampleSource.Builder b = ExampleSourceMain.parse(new String[] {"--port", "0", "--error-rate", "0",
        "--latency-ms", "250", "--rate-limit=2"});
    List<Long> delays = new CopyOnWriteArrayList<>();
    b.clock(Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneOffset.UTC)) // time stands still
        .latencyTimer((ex, ms, send) -> {
          delays.add(ms);
          send.run();
        });
    try (ExampleSource s = b.start()) {
      Http h = new Http(s);
      assertEquals(200, h.get("/tables").status);
      assertEquals(200, h.get("/tables").status);
      Http.Resp third = h.get("/tables");
      assertEquals(429, third.status);
      assertEquals("1", third.header("retry-after"));
      assertEquals(List.of(250L, 250L, 250L), delays);
    }
  }

  @Test
  void rejectsBadFlags() {
    String[][] bad = {{"--nope"}, {"--port"}, {"--port", "x"}, {"--port", "-1"}, {"--rows", "users"},
        {"--rows", "nope=3"}, {"--error-rate", "2"}, {"--page-size", "users=0"}, {"--base-time", "2024-01-01"},
        {"--ties", "0"}, {"--activity", "-1"}, {"--seed", "1.5"}, {"--latency-ms", "-1"}, {"--latency-ms", "0.5"},
        {"--rate-limit", "-1"}, {"--rate-limit", "x"}};
    for (String[] args : bad) {
      assertThrows(IllegalArgumentException.class, () -> ExampleSourceMain.parse(args), String.join(" ", args));
    }
  }

  @Test
  void standaloneProcessPrintsOneListeningLineAndBadFlagsExit2() throws Exception {
    Process p = new ProcessBuilder(ChildProcess.java(dir.resolve("listening.args"), List.of(), MAIN,
            List.of("--port", "0", "--error-rate", "0")))
        .redirectErrorStream(false).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertTrue(line != null && line.matches("listening on http://127\\.0\\.0\\.1:\\d+"), String.valueOf(line));
    } finally {
      p.destroy();
      assertTrue(p.waitFor(20, TimeUnit.SECONDS));
    }
    ChildProcess.Result bad = ChildProcess.runJava(List.of(), MAIN, List.of("--bogus"), dir.resolve("bogus.log"),
        Duration.ofSeconds(20));
    assertFalse(bad.timedOut(), bad::toString);
    assertEquals(2, bad.exitCode(), bad::toString);
    assertTrue(bad.output().contains("--bogus"), bad::toString);
  }

  /** Small helper shared with the conformance suite. */
  static final class ConformanceTestAccess {
    static int count(Http h, String path) {
      List<Object> all = new ArrayList<>();
      all.addAll(ExampleSourceConformanceTest.all(h, path));
      return all.size();
    }
  }
}
