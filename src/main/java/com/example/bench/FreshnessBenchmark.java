package com.example.bench;

import com.example.connector.client.SourceConfig;
import com.example.connector.pipeline.IngestMain;
import com.example.connector.table.CatalogConfig;
import com.example.source.ExampleSource;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.IncrementalAppendScan;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.parquet.Parquet;

/**
 * Freshness of the continuous mode ({@code --streaming=true}) as a reader of the tables meets it:
 * the time from a write's {@code POST} answer at the source to the moment its row can be read
 * from Iceberg, under steady traffic, with the pipeline's memory over the run and an exactly-once
 * check at the end.
 *
 * <pre>
 * mvn -q compile exec:exec@run -Dexec.mainClass=com.example.bench.FreshnessBenchmark \
 *     -Dexec.args="--runner=direct --minutes=10"
 * </pre>
 *
 * <p>Options: {@code --runner=direct|flink} (runner-configs/direct or runner-configs/flink-local),
 * {@code --minutes=N} of traffic (default 10), {@code --latency-ms=N} the source's delay per call
 * (default 0), {@code --pollIntervalSeconds=N} (5) and {@code --commitIntervalSeconds=N} (10),
 * passed to the pipeline. The target is poll + commit + 2 s: a write waits at most a poll to be
 * read (plus up to a second: a poll reads below the source's {@code Date} header, whole seconds),
 * then at most a commit interval to be committed.
 *
 * <p>How. The simulated source runs in this JVM (no faults, no background activity); the pipeline
 * is the real {@link IngestMain} in a child JVM with a fixed heap, resident from its start
 * ({@value #CHILD_HEAP}): a steady continuous run needs little, and without it the resident set
 * grows for many minutes as G1 enlarges the heap, with the live heap flat, hiding what the RSS
 * ratio is for: memory that keeps growing (the GC log below tells the live heap). It runs
 * with a spec of {@code events} (append) and {@code users} (SCD type 1, change feed {@code
 * users__changes}). Once both have committed, this POSTs 50 writes a second over HTTP: 40 new
 * events (the marker: {@code event_id}) and 10 user upserts with a unique email each (the marker:
 * the email), over 1,200 users, so that a user is rewritten every two minutes: the change feed
 * reads the source's current rows, and a version overwritten before a poll would never be
 * readable. Each write's instant is when its answer arrived. A watcher reads, every 250 ms, only
 * what new snapshots of {@code events} and {@code users__changes} added, and stamps each marker
 * with the instant it first saw it, as a streaming reader of the tables would: Iceberg's
 * incremental append scan, one snapshot at a time (both tables only ever append). The child's
 * {@code VmRSS} is sampled every 10 s.
 * At the end the traffic stops, the watcher waits for every marker, the child gets SIGTERM (a final
 * commit, then exit 0), and the tables are read whole: each event must be in {@code events} once
 * and each user's last email must be its one row in {@code users}.
 *
 * <p>Each write's freshness splits into: the wait for the next poll (its {@code _ingested_at}
 * stamps when a poll began, and with 50 writes a second every poll reads rows, so the stamps are
 * the polls), the extra polls missed because the poll's cap, the source's clock in whole seconds,
 * was still below the write; from the poll that read it to the snapshot that committed it; and
 * from that commit to the watcher seeing it. Each write's instants go to {@code writes.csv} in the
 * work directory, and the pipeline's GC log beside it ({@code pipeline-gc.log}: heap after each
 * collection, which tells a heap still growing to its maximum from a leak).
 */
public final class FreshnessBenchmark {
  private static final String CHILD_HEAP = "-Xms512m -Xmx512m -XX:+AlwaysPreTouch";
  private static final int EVENTS_PER_SECOND = 40;
  private static final int USERS_PER_SECOND = 10;
  /** Users the upserts cycle over: each is rewritten every 1,200 / 10 = 120 s, many polls apart. */
  private static final int USER_POOL = 1_200;
  private static final Duration WATCH_EVERY = Duration.ofMillis(250);
  private static final Duration RSS_EVERY = Duration.ofSeconds(10);
  private static final Duration FIRST_COMMIT_WAIT = Duration.ofMinutes(5);
  private static final String USAGE = "use --runner=direct|flink, --minutes=N, --latency-ms=N,"
      + " --pollIntervalSeconds=N, --commitIntervalSeconds=N";

  private record Settings(String runner, long minutes, long latencyMs, long pollSeconds, long commitSeconds) {
    Duration target() {
      return Duration.ofSeconds(pollSeconds + commitSeconds + 2);
    }
  }

  /** One answered write: its table's marker, the user it wrote (null for an event), when its answer came. */
  private record Write(long serial, String marker, String userId, Instant answered) {}

  /** When the watcher first saw a marker, the commit that added it, and the poll that read it. */
  private record Seen(Instant at, Instant committed, Instant polled) {}

  private record RssSample(Instant at, long bytes) {}

  private final Settings settings;
  private final ExampleSource source;
  private final Catalog catalog;
  private final Map<String, Seen> seen = new ConcurrentHashMap<>();
  /** Per watched table, the poll start times its rows carry. */
  private final Map<String, NavigableSet<Instant>> polls = new ConcurrentHashMap<>();
  private final AtomicLong watchErrors = new AtomicLong();

  private FreshnessBenchmark(Settings settings, ExampleSource source, Catalog catalog) {
    this.settings = settings;
    this.source = source;
    this.catalog = catalog;
  }

  public static void main(String[] args) throws Exception {
    Settings settings = settings(args);
    Path work = Files.createTempDirectory("freshness-bench");
    Path output = work.resolve("output");
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).latencyMs(settings.latencyMs()).start()) {
      Path spec = BenchmarkSpec.write(work, source, SourceConfig.DEFAULT_MAX_CONCURRENT_REQUESTS,
          List.of(BenchmarkSpec.table("events"),
              BenchmarkSpec.table("users") + ", \"table_configuration\": {\"scd_type\": \"SCD_TYPE_1\"}"));
      Path log = work.resolve("pipeline.log");
      List<String> jvmOptions = new ArrayList<>(List.of(CHILD_HEAP.split(" ")));
      jvmOptions.addAll(List.of("-Xlog:gc:file=" + work.resolve("pipeline-gc.log"), "--add-opens=java.base/java.util=ALL-UNNAMED"));
      List<String> command = ChildJvm.command(jvmOptions, IngestMain.class, List.of("--spec=" + spec,
          "--outputRoot=" + output, "--streaming=true", "--runnerConfig=" + IngestBenchmark.runnerConfig(settings.runner()),
          "--pollIntervalSeconds=" + settings.pollSeconds(), "--commitIntervalSeconds=" + settings.commitSeconds(),
          "--progressIntervalSeconds=60"));
      Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      System.err.println("pipeline (pid " + child.pid() + ") on " + settings.runner() + ", log " + log);
      try {
        boolean ok = new FreshnessBenchmark(settings, source, CatalogConfig.hadoop(output.toString()).load())
            .run(child, work.resolve("writes.csv"));
        System.exit(ok ? 0 : 1);
      } finally {
        child.destroyForcibly(); // nothing if it ended; a child must not outlive a failed benchmark
      }
    }
  }

  private static Settings settings(String[] args) {
    Map<String, String> given = new HashMap<>(Map.of("runner", "direct", "minutes", "10", "latency-ms", "0",
        "pollIntervalSeconds", "5", "commitIntervalSeconds", "10"));
    for (String arg : args) {
      String[] kv = arg.replaceFirst("^--", "").split("=", 2);
      if (kv.length != 2 || !given.containsKey(kv[0])) {
        throw new IllegalArgumentException("unknown option '" + arg + "'; " + USAGE);
      }
      given.put(kv[0], kv[1].strip());
    }
    if (!List.of("direct", "flink").contains(given.get("runner"))) {
      throw new IllegalArgumentException("--runner: '" + given.get("runner") + "'; " + USAGE);
    }
    return new Settings(given.get("runner"), Long.parseLong(given.get("minutes")), Long.parseLong(given.get("latency-ms")),
        Long.parseLong(given.get("pollIntervalSeconds")), Long.parseLong(given.get("commitIntervalSeconds")));
  }

  /** The whole measurement against a started child; whether nothing was lost, doubled or left unseen. */
  private boolean run(Process child, Path csv) throws Exception {
    Map<String, Long> from = awaitFirstCommits(child);
    // A child that ends before the SIGTERM (a failure, or a signal from elsewhere) is reported as such.
    AtomicReference<Instant> exited = new AtomicReference<>();
    child.onExit().thenRun(() -> exited.set(Instant.now()));
    ScheduledExecutorService timers = Executors.newScheduledThreadPool(2);
    List<RssSample> rss = new CopyOnWriteArrayList<>();
    timers.scheduleWithFixedDelay(() -> sampleRss(child, rss),
        0, RSS_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    // The first commits' rows (the seed) read once: the watcher's first read of the traffic is not its slow first read.
    for (Map.Entry<String, Long> table : from.entrySet()) {
      Table t = load(table.getKey());
      readAdded(t, table.getKey(), t.snapshot(table.getValue()), Instant.now());
    }
    Map<String, Long> last = new ConcurrentHashMap<>(from);
    timers.scheduleWithFixedDelay(() -> watch(last), 0, WATCH_EVERY.toMillis(), TimeUnit.MILLISECONDS);

    Instant trafficStart = Instant.now();
    List<Write> events = new ArrayList<>();
    List<Write> users = new ArrayList<>();
    long failed = traffic(Duration.ofMinutes(settings.minutes()), child, events, users);
    Duration traffic = Duration.between(trafficStart, Instant.now());

    List<Write> all = new ArrayList<>(events);
    all.addAll(users);
    // Every write is due within the target; allow a few more commit intervals (a slow commit, a stall).
    long deadline = System.nanoTime() + settings.target().plusSeconds(3 * settings.commitSeconds() + 30).toNanos();
    while (System.nanoTime() < deadline && all.stream().anyMatch(w -> !seen.containsKey(w.marker())) && child.isAlive()) {
      Thread.sleep(WATCH_EVERY.toMillis());
    }
    sampleRss(child, rss);
    timers.shutdownNow();
    Instant stop = Instant.now();
    child.destroy(); // SIGTERM: the pipeline's final commit, then exit 0
    long stopWait = settings.pollSeconds() + 2 * settings.commitSeconds() + 90;
    int exit = child.waitFor(stopWait, TimeUnit.SECONDS) ? child.exitValue() : -1;

    Check check = check(events, users);
    print(all, failed, traffic, rss, trafficStart, check, exit, csv);
    Instant ended = exited.get();
    if (ended != null && ended.isBefore(stop)) {
      System.out.printf("the pipeline ended by itself %.0f s into the traffic, before the SIGTERM (a failure, or a signal"
          + " from another process: see its log): writes after that count as lost%n", seconds(Duration.between(trafficStart, ended)));
    }
    return check.lost() == 0 && check.doubled() == 0 && check.unseen().isEmpty() && failed == 0 && exit == 0;
  }

  /** Waits until {@code events} and {@code users__changes} have a snapshot; their snapshot ids then. */
  private Map<String, Long> awaitFirstCommits(Process child) throws InterruptedException {
    long deadline = System.nanoTime() + FIRST_COMMIT_WAIT.toNanos();
    while (System.nanoTime() < deadline && child.isAlive()) {
      Map<String, Long> ids = new HashMap<>();
      for (String name : List.of("events", "users__changes", "users")) {
        Snapshot s = catalog.tableExists(id(name)) ? load(name).currentSnapshot() : null;
        if (s != null) {
          ids.put(name, s.snapshotId());
        }
      }
      if (ids.size() == 3) {
        ids.remove("users");
        return ids;
      }
      Thread.sleep(WATCH_EVERY.toMillis());
    }
    throw new IllegalStateException("the pipeline did not commit events and users within " + FIRST_COMMIT_WAIT
        + (child.isAlive() ? "" : " (it exited " + child.exitValue() + ")") + "; see its log");
  }

  /**
   * POSTs {@value #EVENTS_PER_SECOND} events and {@value #USERS_PER_SECOND} user upserts a second
   * for {@code length}, one every 20 ms, each asynchronously (a slow source must not slow the
   * rate), until {@code length} passed or the child ended; the answered writes go to {@code events}
   * and {@code users} in serial order. The writes that failed.
   */
  private long traffic(Duration length, Process child, List<Write> events, List<Write> users)
      throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String auth = "Basic " + Base64.getEncoder().encodeToString("bench:bench".getBytes(StandardCharsets.UTF_8));
    ConcurrentLinkedQueue<Write> answered = new ConcurrentLinkedQueue<>();
    AtomicInteger inFlight = new AtomicInteger();
    AtomicLong failed = new AtomicLong();
    AtomicLong serial = new AtomicLong();
    int perTick = EVENTS_PER_SECOND + USERS_PER_SECOND;
    ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor();
    ticks.scheduleAtFixedRate(() -> {
      long n = serial.getAndIncrement();
      boolean user = n % (perTick / USERS_PER_SECOND) == 0;
      String table = user ? "users" : "events";
      String userId = user ? String.format("fresh_%04d", (n / (perTick / USERS_PER_SECOND)) % USER_POOL) : null;
      String marker = user ? "w" + n + "@freshness.example" : new UUID(0xF5E5L, n).toString();
      String body = user
          ? "{\"user_id\": \"" + userId + "\", \"email\": \"" + marker + "\", \"status\": \"active\"}"
          : "{\"event_id\": \"" + marker + "\", \"event_type\": \"freshness\", \"payload\": \"" + n + "\"}";
      inFlight.incrementAndGet();
      http.sendAsync(HttpRequest.newBuilder(URI.create(source.baseUrl() + "/tables/" + table + "/records"))
              .header("Authorization", auth).header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding())
          .whenComplete((response, error) -> {
            Instant at = Instant.now();
            if (error == null && response.statusCode() == 200) {
              answered.add(new Write(n, marker, userId, at));
            } else {
              failed.incrementAndGet();
              System.err.println("write " + n + " failed: " + (error != null ? error : "HTTP " + response.statusCode()));
            }
            inFlight.decrementAndGet();
          });
    }, 0, 1000 / perTick, TimeUnit.MILLISECONDS);
    child.waitFor(length.toMillis(), TimeUnit.MILLISECONDS);
    ticks.shutdown();
    ticks.awaitTermination(1, TimeUnit.MINUTES);
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    answered.stream().sorted((a, b) -> Long.compare(a.serial(), b.serial()))
        .forEach(w -> (w.userId() == null ? events : users).add(w));
    return failed.get() + inFlight.get();
  }

  /** The child's resident set now, while it runs. */
  private static void sampleRss(Process child, List<RssSample> rss) {
    long bytes = RssGauge.rssOf(child.pid());
    if (child.isAlive() && bytes > 0) {
      rss.add(new RssSample(Instant.now(), bytes));
    }
  }

  /** One watcher tick: what the snapshots after {@code last} added to each watched table. */
  private void watch(Map<String, Long> last) {
    for (Map.Entry<String, Long> table : last.entrySet()) {
      try {
        Table t = load(table.getKey());
        Instant at = Instant.now();
        Snapshot current = t.currentSnapshot();
        Deque<Snapshot> added = new ArrayDeque<>();
        for (Snapshot s = current; s.snapshotId() != table.getValue(); s = t.snapshot(s.parentId())) {
          added.push(s);
        }
        for (Snapshot s : added) {
          readAdded(t, table.getKey(), s, at);
        }
        table.setValue(current.snapshotId());
      } catch (IOException | RuntimeException e) {
        // A metadata file read while it is replaced: the next tick tries again.
        watchErrors.incrementAndGet();
        System.err.println("watcher: " + table.getKey() + ": " + e);
      }
    }
  }

  /** The rows {@code snapshot} appended, stamped with its commit's instant. */
  private void readAdded(Table t, String name, Snapshot snapshot, Instant at) throws IOException {
    IncrementalAppendScan scan = snapshot.parentId() == null
        ? t.newIncrementalAppendScan().toSnapshot(snapshot.snapshotId())
        : t.newIncrementalAppendScan().fromSnapshotExclusive(snapshot.parentId()).toSnapshot(snapshot.snapshotId());
    Instant committed = Instant.ofEpochMilli(snapshot.timestampMillis());
    String markerColumn = name.equals("events") ? "event_id" : "email";
    Schema projection = t.schema().select(markerColumn, "_ingested_at");
    NavigableSet<Instant> tablePolls = polls.computeIfAbsent(name, n -> new ConcurrentSkipListSet<>());
    try (CloseableIterable<FileScanTask> tasks = scan.planFiles()) {
      for (FileScanTask task : tasks) {
        String path = task.file().path().toString();
        try (CloseableIterable<Record> rows = Parquet.read(t.io().newInputFile(path)).project(projection)
            .createReaderFunc(fileSchema -> GenericParquetReaders.buildReader(projection, fileSchema)).build()) {
          for (Record r : rows) {
            Instant polled = ((OffsetDateTime) r.getField("_ingested_at")).toInstant();
            tablePolls.add(polled);
            seen.putIfAbsent(String.valueOf(r.getField(markerColumn)), new Seen(at, committed, polled));
          }
        }
      }
    }
  }

  /**
   * @param lost events not in {@code events}, users whose row is missing or holds another email
   * @param doubled extra copies of an event, extra rows of a user
   * @param unseen markers the watcher never saw
   */
  private record Check(long lost, long doubled, List<String> unseen, List<String> examples) {}

  private Check check(List<Write> events, List<Write> users) throws IOException {
    Map<String, Integer> copies = new HashMap<>();
    for (Record r : readAll("events")) {
      copies.merge(String.valueOf(r.getField("event_id")), 1, Integer::sum);
    }
    Map<String, List<String>> emails = new HashMap<>();
    for (Record r : readAll("users")) {
      emails.computeIfAbsent(String.valueOf(r.getField("user_id")), k -> new ArrayList<>())
          .add(String.valueOf(r.getField("email")));
    }
    long lost = 0;
    long doubled = 0;
    List<String> examples = new ArrayList<>();
    for (Write w : events) {
      int n = copies.getOrDefault(w.marker(), 0);
      lost += n == 0 ? 1 : 0;
      doubled += Math.max(0, n - 1);
      if (n != 1 && examples.size() < 5) {
        examples.add("event " + w.marker() + " in events " + n + " times");
      }
    }
    Map<String, String> lastEmail = new HashMap<>();
    users.forEach(w -> lastEmail.put(w.userId(), w.marker())); // in serial order: the last write wins
    for (Map.Entry<String, String> user : lastEmail.entrySet()) {
      List<String> rows = emails.getOrDefault(user.getKey(), List.of());
      lost += rows.contains(user.getValue()) ? 0 : 1;
      doubled += Math.max(0, rows.size() - 1);
      if ((rows.size() != 1 || !rows.contains(user.getValue())) && examples.size() < 10) {
        examples.add("user " + user.getKey() + ": expected " + user.getValue() + ", rows " + rows);
      }
    }
    List<String> unseen = new ArrayList<>();
    events.forEach(w -> {
      if (!seen.containsKey(w.marker())) {
        unseen.add(w.marker());
      }
    });
    users.forEach(w -> {
      if (!seen.containsKey(w.marker())) {
        unseen.add(w.marker());
      }
    });
    return new Check(lost, doubled, unseen, examples);
  }

  private void print(List<Write> all, long failed, Duration traffic, List<RssSample> rss, Instant trafficStart,
      Check check, int exit, Path csv) throws IOException {
    List<Duration> fresh = new ArrayList<>();
    // The parts of a freshness: to the next poll, polls missed by the cap, poll to commit, commit to seen.
    Duration[] parts = {Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO};
    long missedByCap = 0;
    Instant[] slowest = null;
    List<String> lines = new ArrayList<>(List.of("serial,table,answered,next_poll,read_by_poll,committed,seen"));
    for (Write w : all) {
      Seen s = seen.get(w.marker());
      if (s == null) {
        continue;
      }
      fresh.add(Duration.between(w.answered(), s.at()));
      Instant nextPoll = polls.getOrDefault(w.userId() == null ? "events" : "users__changes", new TreeSet<>())
          .ceiling(w.answered());
      nextPoll = nextPoll == null || nextPoll.isAfter(s.polled()) ? s.polled() : nextPoll;
      missedByCap += nextPoll.isBefore(s.polled()) ? 1 : 0;
      Instant[] marks = {w.answered(), nextPoll, s.polled(), s.committed(), s.at()};
      lines.add(w.serial() + "," + (w.userId() == null ? "events" : "users") + ","
          + String.join(",", Arrays.stream(marks).map(Instant::toString).toList()));
      for (int i = 0; i < parts.length; i++) {
        parts[i] = parts[i].plus(Duration.between(marks[i], marks[i + 1]));
      }
      if (slowest == null || Duration.between(w.answered(), s.at()).compareTo(Duration.between(slowest[0], slowest[4])) > 0) {
        slowest = marks;
      }
    }
    fresh.sort(Duration::compareTo);
    Files.write(csv, lines);
    RssSample atTwo = rss.stream().filter(r -> !r.at().isBefore(trafficStart.plusSeconds(120))).findFirst().orElse(null);
    RssSample end = rss.isEmpty() ? new RssSample(Instant.now(), 0) : rss.get(rss.size() - 1);
    Duration max = fresh.isEmpty() ? Duration.ZERO : fresh.get(fresh.size() - 1);

    System.out.printf("%nFreshness benchmark: %s, %d min of traffic, source latency %d ms, poll %d s, commit %d s,"
            + " pipeline %s; %d cores, load average %.1f%n", settings.runner(), settings.minutes(), settings.latencyMs(),
        settings.pollSeconds(), settings.commitSeconds(), CHILD_HEAP, Runtime.getRuntime().availableProcessors(),
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    String format = "%-7s %7s %8s %7s %7s %7s %12s %9s %9s %6s %5s %8s %6s%n";
    System.out.printf(format, "runner", "writes", "writes/s", "p50 s", "p95 s", "max s", "p95 target", "RSS@2m MB",
        "RSS end MB", "ratio", "lost", "doubled", "exit");
    System.out.printf(format, settings.runner(), all.size(), String.format("%.1f", all.size() / seconds(traffic)),
        String.format("%.1f", seconds(percentile(fresh, 0.50))), String.format("%.1f", seconds(percentile(fresh, 0.95))),
        String.format("%.1f", seconds(max)),
        (percentile(fresh, 0.95).compareTo(settings.target()) <= 0 ? "met" : "missed") + " (" + settings.target().toSeconds() + ")",
        atTwo == null ? "-" : Long.toString(atTwo.bytes() >> 20), end.bytes() >> 20,
        atTwo == null ? "-" : String.format("%.2f", (double) end.bytes() / atTwo.bytes()), check.lost(), check.doubled(), exit);
    int n = Math.max(1, fresh.size());
    System.out.printf("mean freshness %.2f s = to the next poll %.2f + polls missed by the cap %.2f (%d writes, %.1f%%)"
            + " + poll to commit %.2f + commit to seen %.2f%n",
        seconds(fresh.stream().reduce(Duration.ZERO, Duration::plus)) / n, seconds(parts[0]) / n, seconds(parts[1]) / n,
        missedByCap, 100.0 * missedByCap / n, seconds(parts[2]) / n, seconds(parts[3]) / n);
    long over = fresh.stream().filter(d -> d.compareTo(settings.target()) > 0).count();
    if (slowest != null) {
      Instant[] m = slowest;
      System.out.printf("over the target: %d writes (%.2f%%); the slowest, answered at %s: to the next poll %.2f s,"
              + " polls missed by the cap %.2f s, poll to commit %.2f s, commit to seen %.2f s%n", over, 100.0 * over / n,
          m[0], seconds(Duration.between(m[0], m[1])), seconds(Duration.between(m[1], m[2])),
          seconds(Duration.between(m[2], m[3])), seconds(Duration.between(m[3], m[4])));
    }
    System.out.printf("RSS every %d s (MB): %s%n", RSS_EVERY.toSeconds(),
        rss.stream().map(r -> Long.toString(r.bytes() >> 20)).toList());
    System.out.printf("failed writes %d, never seen %d %s, watcher errors %d; each write's instants in %s, the"
            + " pipeline's GC log beside it%n", failed, check.unseen().size(), check.unseen().stream().limit(5).toList(),
        watchErrors.get(), csv);
    check.examples().forEach(e -> System.out.println("  " + e));
  }

  private List<Record> readAll(String name) throws IOException {
    List<Record> rows = new ArrayList<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(load(name)).build()) {
      records.forEach(rows::add);
    }
    return rows;
  }

  private Table load(String name) {
    return catalog.loadTable(id(name));
  }

  private static TableIdentifier id(String name) {
    return TableIdentifier.of("main", "example", name);
  }

  /** Nearest rank. */
  private static Duration percentile(List<Duration> sorted, double p) {
    return sorted.isEmpty() ? Duration.ZERO : sorted.get((int) Math.ceil(p * sorted.size()) - 1);
  }

  private static double seconds(Duration d) {
    return d.toNanos() / 1e9;
  }
}
