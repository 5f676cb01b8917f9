package com.example.crash;

import com.example.bench.BenchmarkSpec;
import com.example.bench.ChildJvm;
import com.example.connector.client.SourceConfig;
import com.example.connector.pipeline.IngestMain;
import com.example.connector.table.CatalogConfig;
import com.example.connector.table.SnapshotSummary;
import com.example.source.ExampleSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * Issue 13's crash target (0 rows lost or doubled across 10 {@code kill -9} trials and 2
 * concurrent runs), on real processes, and the same for a continuous run ({@code --continuous}).
 *
 * <pre>
 * mvn -q compile exec:exec -Dexec.executable=java \
 *     -Dexec.args="-cp %classpath com.example.crash.CrashTrials --trials=10"
 * mvn -q compile exec:exec -Dexec.executable=java \
 *     -Dexec.args="--add-opens=java.base/java.util=ALL-UNNAMED -cp %classpath com.example.crash.CrashTrials --continuous"
 * </pre>
 *
 * <p>Bounded runs: writes a few rounds to the simulated source ({@link CrashTraffic}), then runs
 * {@link IngestMain} in a child JVM and kills it with SIGKILL after a random delay; repeats
 * {@code --trials} times; then starts two runs at once on the same output root; then one normal
 * run. The children run on the DirectRunner, or with {@code --runner=flink} on Flink embedded
 * ({@code runner-configs/flink-local}: the same commits, from Flink's tasks). A delay is uniform
 * between 0 and the time an unkilled first run took (measured once, into an output root of its
 * own); commits take a small part of a run, so most kills land before any (the {@code crash://}
 * tests aim at the commit points). With {@code --at-commit}, each run is killed instead a random
 * 0-{@value #MAX_COMMIT_KILL_DELAY_MS} ms after it committed its first table, between or during
 * its other tables' commits. Per trial it prints whether the run had ended by itself, and how many
 * tables the killed run committed.
 *
 * <p>Continuous runs ({@code --continuous}, the source failing 3% of calls): a child runs {@code
 * --streaming=true}, committing every second, and is killed with SIGKILL {@code --kills} times,
 * each a random 0-2 s after it has committed every table, and started again; writes go on
 * throughout, on a thread of their own, from the first child's first commits (which read the
 * whole seed) until the last kill. Then a final child runs until the tables equal the source and
 * is stopped with SIGTERM, which must end it after a final commit, with exit 0. The tables add
 * {@code users} as SCD type 2 ({@code users_history}).
 *
 * <p>The check ({@link CrashCheck}): the tables against the source's rows and what it answered the
 * writes. Options: {@code --trials=N} (default 10), {@code --at-commit}, {@code --continuous}, {@code
 * --runner=direct|flink} (default direct), {@code --kills=N} (default 5), {@code --seed=S} (delays
 * and writes, default 1), {@code --rows=N} (seed rows of users, orders and events each, default
 * 5,000). Exits 1 if anything is lost, extra or doubled, a run failed by itself, a concurrent run
 * failed otherwise than naming a table and saying to run again, neither concurrent run committed,
 * or the stopped continuous run did not exit 0 after a final commit.
 */
public final class CrashTrials {
  private static final String SCD1 = ", \"table_configuration\": {\"scd_type\": \"SCD_TYPE_1\"}";
  private static final List<String> SPEC_TABLES = List.of(BenchmarkSpec.table("users") + SCD1,
      BenchmarkSpec.table("orders") + SCD1, BenchmarkSpec.table("events"));
  private static final String HISTORY_SPEC = BenchmarkSpec.table("users") + ", \"destination_table\": \""
      + CrashCheck.HISTORY + "\", \"table_configuration\": {\"scd_type\": \"SCD_TYPE_2\"}";
  /** The destinations in the order a bounded run commits them: a change feed before its table. */
  private static final List<String> COMMITTED = List.of("users__changes", "users", "orders__changes", "orders", "events");
  /** The tables a continuous child must have committed before it is killed. */
  private static final List<String> CONTINUOUS_TABLES = List.of("users", "orders", "events", CrashCheck.HISTORY);
  private static final int PAGE_SIZE = 25;
  private static final Duration RUN_TIMEOUT = Duration.ofMinutes(5);
  /** How long a continuous child may take to commit every table, and the final one to catch up. */
  private static final Duration COMMIT_TIMEOUT = Duration.ofMinutes(3);
  private static final int MAX_KILL_DELAY_MS = 2_000;
  /** How long after a bounded run's first table commit an {@code --at-commit} kill may come: about its other commits. */
  private static final int MAX_COMMIT_KILL_DELAY_MS = 300;
  static final String STOPPED = "Stopped after a final commit";
  /** Flink embedded's runner config, in the project's directory. */
  private static final Path FLINK_CONFIG = Path.of("runner-configs", "flink-local").toAbsolutePath();

  /** The runner of the children, and the option that picks it. */
  enum Runner {
    DIRECT("--runner=DirectRunner"),
    FLINK("--runnerConfig=" + FLINK_CONFIG);

    final String option;

    Runner(String option) {
      this.option = option;
    }

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The command line of a child JVM running {@code IngestMain args...} with {@code jvmOptions}, its log at {@code log}. */
  @FunctionalInterface
  interface ChildCommand {
    List<String> java(List<String> jvmOptions, List<String> args, Path log);
  }

  /** One killed bounded run: the delay, whether it had ended by then, its exit code (137: killed), the tables it committed. */
  private record Trial(int number, long delayMs, boolean exitedBeforeKill, int exitCode, int committed) {}

  /**
   * One killed continuous run: when it had committed every table, the delay after that, its exit
   * code (137: killed), and the SCD tables it left with their change feed's cursors ahead of
   * their own (killed between the two commits).
   */
  record Kill(int number, long committedAfterMs, long delayMs, int exitCode, List<String> feedsAhead) {}

  /**
   * A continuous trial's end.
   *
   * @param rounds the traffic's rounds of writes
   * @param caughtUpMs how long the final run took until the tables equaled the source (-1: never)
   * @param finalExit the final run's exit code after SIGTERM
   * @param checks the tables after it
   */
  record ContinuousOutcome(List<Kill> kills, long rounds, long caughtUpMs, int finalExit, String finalOutput,
      List<CrashCheck.Check> checks) {
    boolean ok() {
      return finalExit == 0 && finalOutput.contains(STOPPED) && CrashCheck.allOk(checks);
    }
  }

  private final SourceHttp source;
  private final Path work;
  private final Path spec;
  private final boolean continuous;
  private final Runner runner;
  private final ChildCommand command;
  private final Random random;
  private final CrashTraffic traffic;

  CrashTrials(ExampleSource source, Path work, long seed, boolean continuous, Runner runner, ChildCommand command)
      throws IOException {
    this.source = new SourceHttp(source.baseUrl());
    this.work = work;
    List<String> tables = new ArrayList<>(SPEC_TABLES);
    if (continuous) {
      tables.add(HISTORY_SPEC);
    }
    this.spec = BenchmarkSpec.write(work, source, SourceConfig.DEFAULT_MAX_CONCURRENT_REQUESTS, tables);
    this.continuous = continuous;
    this.runner = runner;
    this.command = command;
    this.random = new Random(seed);
    // Its own stream: a continuous run's traffic writes on a thread of its own.
    this.traffic = new CrashTraffic(this.source, new Random(seed + 1));
  }

  /**
   * The simulated source of the trials: users, orders and events of {@code rows} rows each, pages
   * of 25; failing 3% of calls for a continuous run.
   */
  static ExampleSource source(long rows, boolean continuous) {
    // Users advance one minute per seed row: anchor the seed so that the newest is in the past.
    ExampleSource.Builder builder = ExampleSource.builder().port(0).errorRate(continuous ? 0.03 : 0)
        .baseTime(Instant.now().minus(Duration.ofMinutes(rows + 60))).rows("products", 0).rows("metrics", 0);
    for (String table : List.of("users", "orders", "events")) {
      builder.rows(table, rows).pageSize(table, PAGE_SIZE);
    }
    return builder.start();
  }

  public static void main(String[] args) throws Exception {
    // The trials read the tables while a child commits: Iceberg's Hadoop catalog then warns, with a
    // stack trace, that the version hint it read was being replaced, and reads on without it.
    System.setProperty("org.slf4j.simpleLogger.log.org.apache.iceberg.hadoop.HadoopTableOperations", "error");
    int trials = 10;
    int kills = 5;
    boolean continuous = false;
    boolean atCommit = false;
    Runner runner = Runner.DIRECT;
    long seed = 1;
    long rows = 5_000;
    for (String arg : args) {
      String[] kv = arg.replaceFirst("^--", "").split("=", 2);
      switch (kv[0]) {
        case "trials" -> trials = Integer.parseInt(kv[1]);
        case "continuous" -> continuous = true;
        case "at-commit" -> atCommit = true;
        case "runner" -> runner = runner(kv.length > 1 ? kv[1] : "");
        case "kills" -> kills = Integer.parseInt(kv[1]);
        case "seed" -> seed = Long.parseLong(kv[1]);
        case "rows" -> rows = Long.parseLong(kv[1]);
        default -> throw new IllegalArgumentException(
            "unknown option '" + arg + "'; use --trials=N, --at-commit, --continuous, --runner=direct|flink,"
                + " --kills=N, --seed=S, --rows=N");
      }
    }
    long started = System.nanoTime();
    boolean wrong;
    try (ExampleSource source = source(rows, continuous)) {
      CrashTrials t = new CrashTrials(source, Files.createTempDirectory("crash-trials"), seed, continuous, runner,
          CrashTrials::javaOnThisClasspath);
      if (continuous) {
        ContinuousOutcome outcome = t.continuous(kills);
        t.print(outcome, seed, rows, started);
        wrong = !outcome.ok();
      } else {
        wrong = t.bounded(trials, atCommit, rows, seed, started);
      }
    }
    System.exit(wrong ? 1 : 0);
  }

  /** The runner named by {@code --runner}. */
  private static Runner runner(String name) {
    return switch (name) {
      case "direct" -> Runner.DIRECT;
      case "flink" -> {
        if (!Files.isRegularFile(FLINK_CONFIG)) {
          throw new IllegalArgumentException(
              "--runner=flink needs " + FLINK_CONFIG + ": run from the project's directory");
        }
        yield Runner.FLINK;
      }
      default -> throw new IllegalArgumentException("--runner=" + name + ": use --runner=direct or --runner=flink");
    };
  }

  /** Whether a run exited with an error that says it committed nothing (IngestMain's, after its pipeline or before). */
  private static boolean nothingCommitted(int exit, Path log) throws IOException {
    String output = Files.readString(log);
    return exit != 0 && (output.contains("nothing was committed") || output.contains("this run read and committed nothing"));
  }

  /**
   * The trials, the concurrent runs, the final run and its check, printed; whether anything was
   * wrong. Each run is killed at a random time of an unkilled run's length, or {@code atCommit} a
   * random 0-{@value #MAX_COMMIT_KILL_DELAY_MS} ms after it committed its first table.
   */
  boolean bounded(int trials, boolean atCommit, long rows, long seed, long started) throws Exception {
    long unkilledMs = System.currentTimeMillis();
    runToEnd(work.resolve("measured-output"), work.resolve("measured.log"));
    unkilledMs = System.currentTimeMillis() - unkilledMs;
    Path output = work.resolve("output");

    List<Trial> killed = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (int i = 1; i <= trials; i++) {
      traffic.rounds(20);
      Path log = work.resolve("trial-" + i + ".log");
      long delay = atCommit ? random.nextInt(MAX_COMMIT_KILL_DELAY_MS + 1) : (long) (random.nextDouble() * unkilledMs);
      Process run = start(output, log);
      boolean exited = (atCommit && !awaitFirstCommit(run, output, log)) || run.waitFor(delay, TimeUnit.MILLISECONDS);
      kill(run); // nothing if it already ended
      Trial trial = new Trial(i, delay, exited, finish(run, log), committedBy(output, log));
      killed.add(trial);
      System.err.println("done: " + trial);
      if (exited && trial.exitCode() != 0) {
        problems.add("trial " + i + "'s run failed on its own (exit " + trial.exitCode() + "), see " + log);
      }
    }

    traffic.rounds(20);
    Path[] logs = {work.resolve("concurrent-1.log"), work.resolve("concurrent-2.log")};
    Process first = start(output, logs[0]);
    Process second = start(output, logs[1]);
    int[] concurrent = {finish(first, logs[0]), finish(second, logs[1])};
    for (int i = 0; i < 2; i++) {
      boolean toldToRunAgain = Files.readString(logs[i]).matches("(?s).*table main\\.example\\.\\w+ .*run again.*");
      if (concurrent[i] != 0 && !(concurrent[i] == 1 && toldToRunAgain)) {
        problems.add("concurrent run " + (i + 1) + " failed otherwise than naming a table and saying to run again"
            + " (exit " + concurrent[i] + "), see " + logs[i]);
      }
    }
    // Of two runs on one table one commits: both committing nothing would leave the trial to the final run
    // alone. (Both may fail having committed: each the table the other then conflicted on.)
    if (nothingCommitted(concurrent[0], logs[0]) && nothingCommitted(concurrent[1], logs[1])) {
      problems.add("neither concurrent run committed (exit " + concurrent[0] + " and " + concurrent[1] + "), see "
          + logs[0] + " and " + logs[1]);
    }

    // The final run's cap is the source's clock in whole seconds: let it pass the last write.
    Thread.sleep(Math.max(0, Duration.between(Instant.now(),
        traffic.lastWrite().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1)).toMillis()));
    runToEnd(output, work.resolve("final.log"));
    List<CrashCheck.Check> checks = new CrashCheck(source, traffic, false).against(catalog(output));

    System.out.printf("%nCrash trials (%s): %d runs killed with SIGKILL (seed %d, %s), 2 concurrent runs, 1 final"
        + " run; source: users, orders, events %,d rows each, pages of %d; an unkilled first run took %.1f s%n",
        runner.label(), trials, seed, atCommit ? "each 0-" + MAX_COMMIT_KILL_DELAY_MS + " ms after its first table"
        + " commit" : "at random times of a run's length", rows, PAGE_SIZE, unkilledMs / 1e3);
    String trialFormat = "%-6s %15s %24s %6s %17s%n";
    System.out.printf(trialFormat, "trial", atCommit ? "ms after commit" : "kill delay ms", "exited before the kill",
        "exit", "tables committed");
    killed.forEach(t -> System.out.printf(trialFormat, t.number(), t.delayMs(), t.exitedBeforeKill() ? "yes" : "no",
        t.exitCode(), t.committed() + " of " + COMMITTED.size()));
    System.out.printf("%nconcurrent runs: exit %d and exit %d%n", concurrent[0], concurrent[1]);
    problems.forEach(p -> System.out.println("  " + p));
    System.out.println("\nafter the final run (a change feed's expected rows: the latest version of every key, with"
        + " users_history every user's; and only versions the source had):");
    CrashCheck.print(checks, System.out);
    boolean wrong = !problems.isEmpty() || !CrashCheck.allOk(checks);
    System.out.printf("%n%s in %.0f s; logs under %s%n", wrong ? "FAILED" : "nothing lost or doubled",
        (System.nanoTime() - started) / 1e9, work);
    return wrong;
  }

  /**
   * The continuous trial: {@code kills} children killed, traffic throughout, a final child until
   * the tables equal the source, stopped with SIGTERM; the tables checked after it.
   */
  ContinuousOutcome continuous(int kills) throws Exception {
    Path output = work.resolve("output");
    List<Kill> done = new ArrayList<>();
    Process child = null;
    try {
      for (int i = 1; i <= kills; i++) {
        Path log = work.resolve("continuous-" + i + ".log");
        long started = System.nanoTime();
        child = start(output, log);
        // The first child reads the whole seed before anything writes: each user's seed version is then seen.
        awaitCommits(child, output, log, i == 1 ? traffic.seedNewestMicros() + 1 : Long.MIN_VALUE);
        if (i == 1) {
          traffic.start();
        }
        long committedAfterMs = (System.nanoTime() - started) / 1_000_000;
        long delay = random.nextInt(MAX_KILL_DELAY_MS + 1);
        if (child.waitFor(delay, TimeUnit.MILLISECONDS)) {
          throw new IllegalStateException("continuous run " + i + " ended on its own (exit " + child.exitValue()
              + "), see " + log);
        }
        kill(child);
        done.add(new Kill(i, committedAfterMs, delay, finish(child, log), feedsAhead(catalog(output))));
        System.err.println("killed: " + done.get(done.size() - 1));
      }
      traffic.stop();
      Path log = work.resolve("continuous-final.log");
      CrashCheck check = new CrashCheck(source, traffic, true);
      long started = System.nanoTime();
      child = start(output, log);
      // Its own commits first: SIGTERM needs the run started, and the tables may equal the source already.
      awaitCommits(child, output, log, Long.MIN_VALUE);
      long caughtUpMs = awaitEqual(child, check, output, log) ? (System.nanoTime() - started) / 1_000_000 : -1;
      child.destroy(); // SIGTERM: a final commit, then exit
      int exit = finish(child, log);
      return new ContinuousOutcome(done, traffic.roundsWritten(), caughtUpMs, exit, Files.readString(log),
          check.against(catalog(output)));
    } finally {
      traffic.close();
      if (child != null && child.isAlive()) {
        kill(child);
      }
    }
  }

  /** The continuous trial's table of results; {@code started} in {@link System#nanoTime()}. */
  void print(ContinuousOutcome o, long seed, long rows, long started) {
    System.out.printf("%nContinuous crash trials (%s): %d runs killed with SIGKILL (seed %d), then a final run stopped"
        + " with SIGTERM; source: users, orders, events %,d rows each, pages of %d, 3%% of calls failing; %d rounds of"
        + " writes (%s apart) while the runs were killed%n", runner.label(), o.kills().size(),
        seed, rows, PAGE_SIZE, o.rounds(),
        CrashTraffic.ROUND_EVERY.toMillis() + " ms");
    String format = "%-5s %26s %21s %5s  %s%n";
    System.out.printf(format, "kill", "every table committed, ms", "then killed after ms", "exit",
        "change feeds committed ahead of their table");
    o.kills().forEach(k -> System.out.printf(format, k.number(), k.committedAfterMs(), k.delayMs(), k.exitCode(),
        k.feedsAhead().isEmpty() ? "-" : String.join(", ", k.feedsAhead())));
    System.out.printf("%nfinal run: %s; after SIGTERM exit %d, %s%n",
        o.caughtUpMs() < 0 ? "the tables never equaled the source" : String.format("tables equal to the source after %.1f s", o.caughtUpMs() / 1e3),
        o.finalExit(), o.finalOutput().contains(STOPPED) ? "\"" + STOPPED + "\"" : "no final commit reported");
    System.out.println("\nafter the final run (a change feed's expected rows: the latest version of every key, with"
        + " users_history every user's; and only versions the source had):");
    CrashCheck.print(o.checks(), System.out);
    System.out.printf("%n%s in %.0f s; logs under %s%n", o.ok() ? "nothing lost or doubled" : "FAILED",
        (System.nanoTime() - started) / 1e9, work);
  }

  /**
   * Waits until the child has committed every table, each with all its cursors at or past {@code
   * cursorsFrom} (microseconds).
   */
  private void awaitCommits(Process child, Path output, Path log, long cursorsFrom) throws Exception {
    long deadline = System.nanoTime() + COMMIT_TIMEOUT.toNanos();
    while (true) {
      String runId = runId(log);
      if (runId != null && committed(catalog(output), runId, cursorsFrom)) {
        return;
      }
      if (!child.isAlive()) {
        throw new IllegalStateException("a continuous run ended on its own (exit " + child.exitValue() + "), see " + log);
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("a continuous run did not commit every table within " + COMMIT_TIMEOUT + ", see " + log);
      }
      Thread.sleep(500);
    }
  }

  private static boolean committed(Catalog catalog, String runId, long cursorsFrom) {
    for (String name : CONTINUOUS_TABLES) {
      TableIdentifier id = TableIdentifier.of("main", "example", name);
      Snapshot s = catalog.tableExists(id) ? catalog.loadTable(id).currentSnapshot() : null;
      String by = SnapshotSummary.runId(s);
      // A continuous commit is named after its run and the span it commits.
      if (by == null || !by.startsWith(runId + "-")
          || SnapshotSummary.cursors(s).values().stream().anyMatch(c -> CrashCheck.micros(c) < cursorsFrom)) {
        return false;
      }
    }
    return true;
  }

  /** The SCD tables whose change feed holds cursors other than the table's. */
  private static List<String> feedsAhead(Catalog catalog) {
    return CONTINUOUS_TABLES.stream().filter(t -> !t.equals("events"))
        .filter(t -> !SnapshotSummary.cursors(catalog.loadTable(TableIdentifier.of("main", "example", t)).currentSnapshot())
            .equals(SnapshotSummary.cursors(catalog.loadTable(TableIdentifier.of("main", "example", t + "__changes")).currentSnapshot())))
        .toList();
  }

  /** Waits until the tables equal what {@code check} expects; false if they did not in time. */
  private boolean awaitEqual(Process child, CrashCheck check, Path output, Path log) throws Exception {
    long deadline = System.nanoTime() + COMMIT_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!child.isAlive()) {
        throw new IllegalStateException("the final continuous run ended on its own (exit " + child.exitValue()
            + "), see " + log);
      }
      if (CrashCheck.allOk(check.against(catalog(output)))) {
        return true;
      }
      Thread.sleep(500);
    }
    return false;
  }

  /** The command line of a child JVM on this JVM's classpath. */
  private static List<String> javaOnThisClasspath(List<String> jvmOptions, List<String> args, Path log) {
    return ChildJvm.command(jvmOptions, IngestMain.class, args);
  }

  /** {@code IngestMain} on the trials' runner in a child JVM, its output in {@code log}; continuous in a continuous trial. */
  private Process start(Path output, Path log) throws IOException {
    // The JDK opened as the launcher opens it for every run: Flink and a streaming DirectRunner need it.
    List<String> jvmOptions = new ArrayList<>(List.of("-Xmx1g", "--add-opens=java.base/java.util=ALL-UNNAMED"));
    List<String> args = new ArrayList<>(List.of("--spec=" + spec, "--outputRoot=" + output, runner.option,
        "--progressIntervalSeconds=0"));
    if (continuous) {
      // Children started again and again on a shared machine: C1 alone and the serial collector start
      // one in a fraction of the CPU time (what is tried is the crash behaviour, not the JIT).
      jvmOptions.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
      args.addAll(List.of("--streaming=true", "--pollIntervalSeconds=1", "--commitIntervalSeconds=1"));
    }
    return new ProcessBuilder(command.java(jvmOptions, args, log))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /** SIGKILL to a child and whatever it started. */
  private static void kill(Process child) {
    child.descendants().forEach(ProcessHandle::destroyForcibly);
    child.destroyForcibly();
  }

  /** Waits for a run's end; its exit code. */
  private static int finish(Process run, Path log) throws InterruptedException {
    if (!run.waitFor(RUN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      kill(run);
      throw new IllegalStateException("a run did not end within " + RUN_TIMEOUT + ", see " + log);
    }
    return run.exitValue();
  }

  /** A run that must succeed. */
  private void runToEnd(Path output, Path log) throws IOException, InterruptedException {
    int exit = finish(start(output, log), log);
    if (exit != 0) {
      throw new IllegalStateException("an unkilled run failed (exit " + exit + "), see " + log);
    }
  }

  private static Catalog catalog(Path output) {
    return CatalogConfig.hadoop(output.toString()).load();
  }

  /** The run id a child printed, or null before it did. */
  private static String runId(Path log) throws IOException {
    Matcher runId = Pattern.compile("(?m)^Run (\\S+): ").matcher(Files.exists(log) ? Files.readString(log) : "");
    return runId.find() ? runId.group(1) : null;
  }

  /**
   * Waits until the run has committed a table (true) or has ended or timed out (false). A commit
   * replaces a table's version hint; only then are the snapshots read, to tell the run's commit from
   * a table's creation or another run's.
   */
  private static boolean awaitFirstCommit(Process run, Path output, Path log) throws Exception {
    long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
    Map<String, String> hints = versionHints(output);
    while (run.isAlive() && System.nanoTime() < deadline) {
      Map<String, String> now = versionHints(output);
      if (!now.equals(hints)) {
        if (committedBy(output, log) > 0) {
          return true;
        }
        hints = now;
      }
      Thread.sleep(2);
    }
    return false;
  }

  /** The destinations' version hints (a Hadoop catalog's pointer to its current metadata), by destination. */
  private static Map<String, String> versionHints(Path output) {
    Map<String, String> hints = new HashMap<>();
    for (String table : COMMITTED) {
      Path hint = output.resolve(Path.of("main", "example", table, "metadata", "version-hint.text"));
      try {
        hints.put(table, Files.readString(hint));
      } catch (IOException e) {
        hints.put(table, "none"); // not created yet, or being replaced
      }
    }
    return hints;
  }

  /** How many destinations' current snapshot the run whose output is in {@code log} committed. */
  private static int committedBy(Path output, Path log) throws IOException {
    String runId = runId(log);
    Catalog catalog = catalog(output);
    return runId == null ? 0 : (int) COMMITTED.stream().map(t -> TableIdentifier.of("main", "example", t))
        .filter(id -> catalog.tableExists(id) && runId.equals(SnapshotSummary.runId(catalog.loadTable(id).currentSnapshot())))
        .count();
  }
}
