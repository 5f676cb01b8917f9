package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import com.example.testing.ChildProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash:// test FileSystem kills a real pipeline process (IngestMain in a child JVM) where its
 * {@code crash.at} rule says, here mid-write of a staged Parquet file, and the next run, without
 * the rule, recovers: the table then holds every user exactly once. (The other kill points, over
 * several runs of every kind of table, are in {@link ScdTablesTest}.)
 */
class CrashFileSystemTest {
  private static final int USERS = 37;
  private static final Duration TIMEOUT = Duration.ofMinutes(2);

  private static ExampleSource source;

  @TempDir Path dir;

  @BeforeAll
  static void startSource() {
    source = ExampleSource.builder().port(0).seed(7).errorRate(0).rows("users", USERS).start();
  }

  @AfterAll
  static void stopSource() {
    source.close();
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void killedMidWriteOfAStagedFileThenRecovered() throws Exception {
    IngestHarness h = harness();
    ChildProcess.Result crashed = run(h, "crashed", "write:/_staging/:1:1000");
    assertEquals(137, crashed.exitCode(), crashed::toString);
    String halt = ChildRun.haltLine(crashed);
    assertNotNull(halt, crashed::toString);
    assertTrue(halt.matches(
        "crash\\.at: halting at write crash://" + h.output + "/_staging/.* after 1000 bytes"), crashed::toString);
    String cut = halt.replaceAll("^crash\\.at: halting at write crash://(.*) after 1000 bytes$", "$1");
    assertEquals(1000, Files.size(Path.of(cut)), "the file was left half-written: " + cut);
    assertEquals(List.of(), parquetIn(h.tableDir("users")), "nothing reached the table");
    assertEquals(List.of(), jsonIn(h.output.resolve("_state")), "no table state was written");

    recover(h);
  }

  private IngestHarness harness() {
    return new IngestHarness(dir, source.baseUrl().toString().replaceAll("/$", ""));
  }

  /** A run without a crash rule: exits 0, every user once, nothing left in staging. */
  private void recover(IngestHarness h) throws IOException {
    ChildProcess.Result next = run(h, "recovery", null);
    assertEquals(0, next.exitCode(), next::toString);
    assertEquals(null, ChildRun.haltLine(next), next::toString);
    List<String> ids = h.column("users", "user_id", null);
    assertEquals(USERS, ids.size(), () -> "rows: " + ids);
    assertEquals(USERS, Set.copyOf(ids).size(), () -> "each user once: " + ids);
    assertEquals(List.of(), files(h.output.resolve("_staging")), "staging is cleaned up");
  }

  private ChildProcess.Result run(IngestHarness h, String name, String crashAt) {
    Path spec = h.spec("users.json", "\"source_table\": \"users\"");
    List<String> args = List.of("--spec=" + spec, "--outputRoot=crash://" + h.output, "--runner=DirectRunner",
        "--retryInitialBackoffMillis=1", "--progressIntervalSeconds=0");
    ChildProcess.Result r = ChildRun.run(args, crashAt == null ? Map.of() : Map.of("crash.at", crashAt),
        dir.resolve(name + ".log"), TIMEOUT);
    System.out.printf("CrashFileSystemTest: %s run (crash.at=%s) exit %d in %.1f s%n",
        name, crashAt, r.exitCode(), r.took().toMillis() / 1e3);
    return r;
  }

  private static List<Path> files(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
  }

  private static List<Path> parquetIn(Path dir) throws IOException {
    return list(dir, ".parquet");
  }

  private static List<Path> jsonIn(Path dir) throws IOException {
    return list(dir, ".json");
  }

  /** The files directly in dir whose names end with suffix. */
  private static List<Path> list(Path dir, String suffix) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(f -> Files.isRegularFile(f) && f.getFileName().toString().endsWith(suffix)).forEach(out::add);
    }
    return out;
  }
}
