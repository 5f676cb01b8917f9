package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.connector.table.CatalogConfig;
import com.example.connector.table.SnapshotSummary;
import com.example.source.ExampleSource;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A continuous job on Flink embedded stopped with a savepoint and resumed from it, in this JVM:
 * the resumed job is a new plan (its spec, its tables' schemas and cursors), and its Flink state
 * (the reads' elements and positions, the committers' batches) is the savepoint's.
 */
class ContinuousSavepointTest {
  private static final Duration DEADLINE = Duration.ofMinutes(2);
  private static final Pattern LIMIT = Pattern.compile("(?:^|&)limit=(\\d+)");

  @TempDir Path dir;

  /**
   * products read with category 'electronics' and events with limit 50, stopped with a savepoint;
   * the spec then asks for 'books' (a snapshot table keeps no filters: a bounded run replaces it
   * with the books) and limit 7, and the job is resumed from the savepoint: once it has committed
   * twice, products holds the books, and events' calls ask for 7 records.
   */
  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void aJobResumedFromASavepointReadsWithItsOwnSpecsFilters() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).nullRate(0).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path electronics = h.spec("electronics.json",
          "\"source_table\": \"products\", \"table_configuration\": {\"category\": \"electronics\"}",
          "\"source_table\": \"events\", \"table_configuration\": {\"limit\": \"50\"}");
      Path books = h.spec("books.json",
          "\"source_table\": \"products\", \"table_configuration\": {\"category\": \"books\"}",
          "\"source_table\": \"events\", \"table_configuration\": {\"limit\": \"7\"}");

      Job first = Job.start(h, electronics, null, dir.resolve("conf-1"));
      first.awaitCommits(h, "products", 1);
      assertEquals(new TreeSet<>(List.of("electronics")), categories(h));
      String savepoint = first.stopWithSavepoint(dir.resolve("savepoints"));

      Set<String> limits = ConcurrentHashMap.newKeySet();
      source.setRequestListener((method, path, query) -> {
        Matcher limit = LIMIT.matcher(path.equals("/tables/events/records") && query != null ? query : "");
        if (limit.find()) {
          limits.add(limit.group(1));
        }
      });
      Job second = Job.start(h, books, savepoint, dir.resolve("conf-2"));
      try {
        second.awaitCommits(h, "products", 2);
        second.await("a read of events", () -> !limits.isEmpty());
        assertEquals(Set.of("7"), limits, "the limit of the resumed job's reads of events");
        // The seed's categories cycle electronics, books, clothing: of its 53 products, 18 are books.
        assertEquals(new TreeSet<>(List.of("books")), categories(h), "the resumed job's spec asks for books");
        assertEquals(18, h.rows("products").size());
      } finally {
        second.cancel();
      }
    }
  }

  /**
   * events followed with commits an hour apart, so that the savepoint holds the batches read since
   * the first commit; the source then adds a column, and the job is resumed from the savepoint with
   * a plan that has it: the batches read before (their rows without the column) and after are
   * committed, and events equals the source.
   */
  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void aJobResumedFromASavepointAfterTheSourceAddedAColumnCommitsTheBatchesItHeld() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("events.json", "\"source_table\": \"events\"");
      Job first = Job.start(h, spec, null, dir.resolve("conf-1"), "--commitIntervalSeconds=3600",
          "--checkpointingInterval=1000");
      first.awaitCommits(h, "events", 1); // the first commits at once, the next an hour later
      Instant written = Instant.parse(String.valueOf(source.upsert("events",
          Map.of("event_id", "00000000-0000-4000-8000-00000000f001", "event_type", "view")).get("created_at")));
      AtomicReference<Instant> polled = new AtomicReference<>(Instant.MIN);
      source.setRequestListener((method, path, query) -> {
        if (path.equals("/tables/events/records")) {
          polled.accumulateAndGet(ProgressLineTest.since(query), (a, b) -> a.isAfter(b) ? a : b);
        }
      });
      first.await("a poll past the new event", () -> !polled.get().isBefore(written));
      String savepoint = first.stopWithSavepoint(dir.resolve("savepoints"));
      assertEquals(101, h.rows("events").size(), "the seed's events committed, the new one held in the savepoint");

      source.addColumn("events", "browser", "string");
      source.upsert("events", Map.of("event_id", "00000000-0000-4000-8000-00000000f002", "browser", "lynx"));
      Job second = Job.start(h, spec, savepoint, dir.resolve("conf-2"));
      try {
        List<String> expected = ScdTablesTest.rendered(ScdTablesTest.currentRows(source, "events"));
        second.await("events equal to the source",
            () -> expected.equals(ScdTablesTest.renderedTable(h.rows("events"))));
      } finally {
        second.cancel();
      }
    }
  }

  /**
   * events followed and stopped with a savepoint; the table is then dropped (to load it again) and
   * the job resumed from the savepoint, whose read goes on from where it stopped while the new
   * table holds nothing: the rows below that position are never read again, and the committer,
   * which commits only from the table's cursor up without a gap, would wait for them for ever.
   * The job fails at its first commit, naming the table and what to do.
   */
  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void aJobResumedFromASavepointAfterItsTableWasDroppedFailsNamingIt() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("events.json", "\"source_table\": \"events\"");
      Job first = Job.start(h, spec, null, dir.resolve("conf-1"));
      first.awaitCommits(h, "events", 1);
      String savepoint = first.stopWithSavepoint(dir.resolve("savepoints"));
      assertEquals(101, h.rows("events").size(), "the seed's events");
      CatalogConfig.hadoop(h.output.toString()).load().dropTable(TableIdentifier.of("main", "example", "events"), true);

      Job second = Job.start(h, spec, savepoint, dir.resolve("conf-2"), "--numberOfExecutionRetries=0");
      try {
        Throwable failure = second.awaitFailure();
        String message = causes(failure);
        assertTrue(message.contains("main.example.events: its cursor for records is none (an empty table), below ")
            && message.contains("Cancel the job and start it again without --savepointPath"), message);
        assertEquals(0, h.rows("events").size(), "nothing committed above the gap");
      } catch (AssertionError e) {
        try {
          second.cancel(); // a stalled job still runs
        } catch (Exception ended) {
          e.addSuppressed(ended);
        }
        throw e;
      }
    }
  }

  /** The messages of a failure's causes, one per line: Flink wraps the job's exception several times. */
  private static String causes(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      b.append(c).append('\n');
    }
    return b.toString();
  }

  private static TreeSet<String> categories(IngestHarness h) {
    TreeSet<String> categories = new TreeSet<>();
    for (GenericRecord row : h.rows("products")) {
      categories.add(String.valueOf(row.get("category")));
    }
    return categories;
  }

  /** A continuous job on Flink embedded, submitted detached: its plan and its JobClient. */
  private record Job(IngestPlan plan, JobClient client) {

    /** Plans {@code spec} and submits its continuous pipeline, from {@code savepoint} if given. */
    static Job start(IngestHarness h, Path spec, @Nullable String savepoint, Path confDir, String... more)
        throws Exception {
      // Beam's Flink runner applies --savepointPath to a remote cluster only; an embedded
      // cluster takes the savepoint from its configuration.
      Files.createDirectories(confDir);
      Files.writeString(confDir.resolve("config.yaml"),
          savepoint == null ? "" : "execution.savepoint.path: '" + savepoint + "'\n");
      PipelineOptionsFactory.register(IngestOptions.class);
      PipelineOptionsFactory.register(FlinkPipelineOptions.class);
      List<String> args = new ArrayList<>(List.of("--runner=FlinkRunner", "--flinkMaster=[local]",
          "--parallelism=1", "--streaming=true", "--attachedMode=false", "--spec=" + spec,
          "--outputRoot=" + h.output, "--pollIntervalSeconds=1", "--snapshotIntervalSeconds=1",
          "--flinkConfDir=" + confDir));
      args.addAll(List.of(more));
      if (args.stream().noneMatch(a -> a.startsWith("--commitIntervalSeconds="))) {
        args.add("--commitIntervalSeconds=1");
      }
      IngestOptions options = PipelineOptionsFactory.fromArgs(args.toArray(String[]::new)).as(IngestOptions.class);
      ContinuousRun.enableCheckpoints(options);
      PipelineSpec parsed = PipelineSpec.load(spec);
      Connection connection = Connection.resolve(parsed.connectionName(), h.dir.resolve("connections"), null);
      SourceConfig source = new SourceConfig(connection.baseUrl(), connection.username(), connection.password(),
          new RetryPolicy(5, Duration.ofMillis(1), Duration.ofMillis(10)));
      IngestPlan plan = IngestPlanner.plan(parsed, spec.toString(), connection, source, options, Instant.now());
      Pipeline pipeline = Pipeline.create(options);
      ContinuousPipeline.build(pipeline, plan, options);
      PipelineResult result = pipeline.run();
      Field field = result.getClass().getDeclaredField("jobClient");
      field.setAccessible(true);
      return new Job(plan, (JobClient) field.get(result));
    }

    /** Waits until this job has committed {@code count} snapshots of {@code table}. */
    void awaitCommits(IngestHarness h, String table, int count) throws Exception {
      await(count + " commits of " + table, () -> commits(h.table(table)) >= count);
    }

    /** Polls {@code condition} (the tables, the source's requests) while the job runs, up to the deadline. */
    void await(String what, BooleanSupplier condition) throws Exception {
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      while (!condition.getAsBoolean()) {
        assertTrue(System.nanoTime() < deadline,
            () -> "job of run " + plan.runId() + ": not " + what + " within " + DEADLINE);
        assertTrue(!client.getJobStatus().get().isGloballyTerminalState(), "the job ended");
        Thread.sleep(200); // the job commits every second
      }
    }

    private long commits(@Nullable Table table) {
      if (table == null) {
        return 0;
      }
      table.refresh();
      long n = 0;
      for (Snapshot s : table.snapshots()) {
        String run = SnapshotSummary.runId(s);
        n += run != null && run.startsWith(plan.runId()) ? 1 : 0;
      }
      return n;
    }

    String stopWithSavepoint(Path target) throws Exception {
      return client.stopWithSavepoint(false, target.toUri().toString(), SavepointFormatType.CANONICAL)
          .get(2, TimeUnit.MINUTES);
    }

    /**
     * Waits until this job has failed for good (asked at once: an embedded cluster shuts down with
     * its job); its failure.
     */
    Throwable awaitFailure() throws Exception {
      CompletableFuture<JobExecutionResult> result = client.getJobExecutionResult();
      try {
        result.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        return e;
      } catch (TimeoutException e) {
        throw new AssertionError("job of run " + plan.runId() + ": not failed within " + DEADLINE, e);
      }
      throw new AssertionError("the job of run " + plan.runId() + " ended, not failed");
    }

    void cancel() throws Exception {
      client.cancel().get(1, TimeUnit.MINUTES);
    }
  }
}
