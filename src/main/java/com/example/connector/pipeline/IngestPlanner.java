package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import com.example.connector.catalog.IngestionType;
import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.TableDescriptor;
import com.example.connector.catalog.TableOptions;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.SourceConfig;
import com.example.connector.client.SourceException;
import com.example.connector.merge.MergeRule;
import com.example.connector.read.CursorFeed;
import com.example.connector.read.ReadContext;
import com.example.connector.read.SnapshotRead;
import com.example.connector.sink.Committer;
import com.example.connector.sink.Destination;
import com.example.connector.sink.OutputLayout;
import com.example.connector.sink.TableCommit;
import com.example.connector.sink.TableState;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Turns a pipeline spec and a connection into a validated {@link IngestPlan}. Everything a user
 * can get wrong is checked here before any file changes: destinations, the source's reachability
 * and credentials, table names, options, and the state a destination already holds. Only then
 * does it finish any commit a dead run left half-done, and read the cursors.
 *
 * <p>Failures: a {@link ConfigurationException} for what the user must fix; a
 * {@link SourceException} when the source is unreachable or failing (retrying may help); an
 * {@link IllegalStateException} naming the file when a table's committed state is unreadable.
 */
public final class IngestPlanner {
  private static final DateTimeFormatter RUN_TIME =
      DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private IngestPlanner() {}

  /** One spec entry, checked: its source table, options and destination. */
  private record Resolved(TableDescriptor table, TableOptions options, Destination destination) {}

  /** What the source says at the start of the run: its tables and its clock (if it sent one). */
  private record Discovery(TableCatalog catalog, @Nullable Instant sourceNow) {}

  /** What every table of the run shares. */
  private record Run(String id, RunStamp stamp, long capMicros, OutputLayout layout, SourceConfig source) {}

  /** A table's committed state with its cursors read, in microseconds. */
  private record Committed(TableState state, Map<String, Long> cursors) {
    Committed {
      cursors = Map.copyOf(cursors);
    }
  }

  public static IngestPlan plan(
      PipelineSpec spec,
      String specName,
      Connection connection,
      SourceConfig source,
      IngestOptions options,
      Instant now) {
    List<Destination> destinations = destinations(spec, specName, options);
    Discovery discovery = discover(connection, source);
    List<Resolved> tables = resolve(spec, specName, connection, discovery.catalog(), destinations);
    // The cap is the source's clock, not ours: a record written while the run reads is stamped
    // at or after it, whatever the skew between the two machines, and so is left for the next run.
    Instant cap = (discovery.sourceNow() != null ? discovery.sourceNow() : now).truncatedTo(ChronoUnit.MICROS);
    String runId = RUN_TIME.format(now) + "-" + String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    Run run = new Run(runId, new RunStamp(runId, Timestamps.toMicros(now)), Timestamps.toMicros(cap),
        new OutputLayout(options.getOutputRoot()), source);

    Committer committer = new Committer(run.layout());
    // Checked before recovery changes any file, and again after it: recovery may finish a dead
    // run's commit, which is the first to record some table.
    tables.forEach(t -> committed(t, committer, run.layout()));
    if (!options.getDryRun()) { // a dry run writes nothing: it plans from the committed state as is
      committer.recover();
    }
    List<PlannedTable> planned = new ArrayList<>();
    for (Resolved t : tables) {
      planned.add(planTable(t, committed(t, committer, run.layout()), run));
    }
    return new IngestPlan(runId, cap, run.layout(), planned);
  }

  /** Every entry's destination, by the one name rule, and no two entries on the same one. */
  private static List<Destination> destinations(PipelineSpec spec, String specName, IngestOptions options) {
    List<Destination> destinations = new ArrayList<>();
    Map<String, String> claimed = new HashMap<>();
    for (int i = 0; i < spec.tables().size(); i++) {
      TableSpec ts = spec.tables().get(i);
      String where = where(specName, ts, i);
      Destination d = new Destination(
          name(ts.destinationCatalog(), where + ": destination_catalog", options.getDefaultCatalog(), "--defaultCatalog"),
          name(ts.destinationSchema(), where + ": destination_schema", options.getDefaultSchema(), "--defaultSchema"),
          DestinationNames.check(ts.effectiveDestinationTable(), where + ": destination_table"));
      // Case-insensitive file systems (macOS, Windows) would put two names differing in case in one directory.
      String earlier = claimed.putIfAbsent(d.key().toLowerCase(Locale.ROOT), where);
      if (earlier != null) {
        throw new ConfigurationException(
            where + ": lands on " + d.key() + ", as does " + earlier
                + " (names that differ only in case count as the same); give one of them another destination_table");
      }
      destinations.add(d);
    }
    return destinations;
  }

  private static String name(@Nullable String given, String field, String fallback, String option) {
    return given != null ? DestinationNames.check(given, field) : DestinationNames.check(fallback, option);
  }

  private static String where(String specName, TableSpec ts, int index) {
    return specName + ": table '" + ts.sourceTable() + "' (object[" + index + "])";
  }

  /**
   * Asks the source for its tables and clock. A refusal that configuration causes (401, 403, any
   * 4xx but 408 and 429) is a configuration error; an unreachable or failing source is not.
   */
  private static Discovery discover(Connection connection, SourceConfig source) {
    try (ExampleClient client = ExampleClient.create(source)) {
      TableCatalog catalog = TableCatalog.discover(client);
      return new Discovery(catalog, client.sourceTime());
    } catch (SourceException e) {
      String prefix = "connection '" + connection.name() + "': ";
      if (isConfigurationError(e.status())) {
        throw new ConfigurationException(
            prefix + e.getMessage() + "; check the connection's base_url (" + source.baseUrl()
                + ") and credentials", e);
      }
      throw new SourceException(
          prefix + (e.status() == 0 ? "the source cannot be reached at base_url " + source.baseUrl()
              : "the source at " + source.baseUrl() + " is failing") + " (" + e.getMessage()
              + "); run again later, or allow more attempts per call with --retryMaxAttempts",
          e.status(), e);
    }
  }

  private static boolean isConfigurationError(int status) {
    return status >= 400 && status < 500 && status != 408 && status != 429;
  }

  private static List<Resolved> resolve(PipelineSpec spec, String specName, Connection connection,
      TableCatalog catalog, List<Destination> destinations) {
    List<Resolved> resolved = new ArrayList<>();
    for (int i = 0; i < spec.tables().size(); i++) {
      TableSpec ts = spec.tables().get(i);
      String where = where(specName, ts, i);
      TableDescriptor table = catalog.table(ts.sourceTable(), where);
      TableOptions options = TableOptions.parse(
          table, ts.tableConfiguration(), connection.externalOptionsAllowList(), where);
      resolved.add(new Resolved(table, options, destinations.get(i)));
    }
    return resolved;
  }

  /**
   * The destination's committed state, checked: readable, with readable cursors, and built from
   * the same source table and merge as this run's.
   */
  private static Optional<Committed> committed(Resolved t, Committer committer, OutputLayout layout) {
    Optional<Committed> committed = read(t.destination(), committer, layout);
    committed.ifPresent(c -> checkSameTable(t, MergeRule.of(t.table(), t.options()), c.state(), layout));
    return committed;
  }

  private static Optional<Committed> read(Destination d, Committer committer, OutputLayout layout) {
    try {
      return committer.state(d).map(s -> {
        Map<String, Long> cursors = new HashMap<>();
        s.cursors().forEach((feed, cursor) -> cursors.put(feed, Timestamps.toMicros(Timestamps.parse(cursor))));
        return new Committed(s, cursors);
      });
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          layout.stateFile(d) + ": the committed state of " + d + " is unreadable (" + e.getMessage()
              + "); restore this file from a backup, or rebuild the table by deleting it and "
              + layout.tableDir(d), e);
    }
  }

  /** A destination keeps the source table and the way it is merged that first created it. */
  private static void checkSameTable(Resolved t, MergeRule merge, TableState previous, OutputLayout layout) {
    Destination destination = t.destination();
    if (!previous.sourceTable().equals(t.table().name())) {
      throw new ConfigurationException(
          destination + " holds table '" + previous.sourceTable() + "', not '" + t.table().name()
              + "'; choose another destination_table");
    }
    if (!merge.equals(previous.merge())) {
      throw new ConfigurationException(
          destination + " was built with " + describe(previous.merge()) + ", but the spec now asks for "
              + describe(merge) + "; its rows cannot be reinterpreted. Keep the table's settings, or"
              + " land it on another destination_table, or rebuild it from scratch by deleting "
              + layout.tableDir(destination) + " and " + layout.stateFile(destination));
    }
  }

  private static String describe(MergeRule merge) {
    return merge == null ? "no recorded settings (an older connector's state)"
        : merge.appendOnly() ? "append only"
        : merge.scdType() + ", primary_keys " + merge.keys()
            + (merge.sequenceBy() != null ? ", sequence_by " + merge.sequenceBy() : "");
  }

  private static PlannedTable planTable(Resolved t, Optional<Committed> previous, Run run) {
    TableDescriptor table = t.table();
    MergeRule merge = MergeRule.of(table, t.options());
    Map<String, Long> committedCursors = previous.map(Committed::cursors).orElse(Map.of());
    SnapshotRead snapshot = null;
    List<CursorFeed> feeds = new ArrayList<>();
    if (table.ingestionType() == IngestionType.SNAPSHOT) {
      snapshot = new SnapshotRead(table.name(), filters(t.options()));
    } else {
      feeds.addAll(feeds(table, t.options(), committedCursors, run.capMicros()));
    }
    List<String> committedFiles = previous.map(c -> c.state().tableFiles()).orElse(List.of());
    TableState state = new TableState(
        t.destination().key(),
        table.name(),
        table.ingestionType().documentedName(),
        merge,
        cursorsAfter(feeds),
        committedFiles,
        run.id(),
        Timestamps.format(Timestamps.fromMicros(run.stamp().ingestedAtMicros())));
    return new PlannedTable(
        t.destination(),
        new ReadContext(run.source(), table, run.stamp(), t.destination().key()),
        merge,
        snapshot,
        feeds,
        merge.readsCommittedTable()
            ? committedFiles.stream().map(f -> run.layout().tableDir(t.destination()) + f).toList()
            : List.of(),
        TableCommit.planned(t.destination(), state));
  }

  /** The records feed, plus the tombstones feed of a table with deletes. */
  private static List<CursorFeed> feeds(TableDescriptor table, TableOptions options,
      Map<String, Long> committed, long capMicros) {
    Map<String, String> params = filters(options);
    if (table.ingestionType() == IngestionType.APPEND) {
      params.put("limit", Integer.toString(options.limit()));
    }
    List<CursorFeed> feeds = new ArrayList<>();
    feeds.add(feed(table, options, false, params, committed, capMicros));
    if (table.ingestionType() == IngestionType.CDC_WITH_DELETES) {
      // Tombstones carry only the key and cursor, so the source cannot filter them.
      feeds.add(feed(table, options, true, Map.of(), committed, capMicros));
    }
    return feeds;
  }

  private static CursorFeed feed(TableDescriptor table, TableOptions options, boolean tombstones,
      Map<String, String> params, Map<String, Long> committed, long capMicros) {
    boolean windowed = !tombstones && table.name().equals(TableCatalog.METRICS.name());
    String operation = tombstones ? "delete"
        : table.ingestionType() == IngestionType.APPEND ? "append" : "upsert";
    Long start = options.startTimestamp() == null ? null : Timestamps.toMicros(options.startTimestamp());
    return new CursorFeed(
        table.name(),
        tombstones,
        params,
        committed.get(tombstones ? "deleted_records" : "records"),
        start,
        capMicros,
        options.maxRecordsPerBatch(),
        operation,
        // TableOptions bounds the window so that this product cannot overflow.
        windowed ? options.windowSeconds() * 1_000_000L : null);
  }

  /** The cursor each feed commits, by feed name. */
  private static Map<String, String> cursorsAfter(List<CursorFeed> feeds) {
    Map<String, String> cursors = new LinkedHashMap<>();
    feeds.forEach(f -> cursors.put(f.feedName(), Timestamps.formatMicros(committedCursor(f))));
    return cursors;
  }

  /**
   * Where the next run starts: the cap, or where this run's read starts if that is later (a
   * cursor from a source clock that went back, or a {@code start_timestamp} in the future), so
   * the committed cursor never moves back below what was read or asked for.
   */
  private static long committedCursor(CursorFeed feed) {
    Long from = feed.fromMicros() != null ? feed.fromMicros() : feed.startMicros();
    return from == null ? feed.capMicros() : Math.max(from, feed.capMicros());
  }

  private static Map<String, String> filters(TableOptions options) {
    Map<String, String> params = new HashMap<>();
    if (options.category() != null) {
      params.put("category", options.category());
    }
    if (options.userId() != null) {
      params.put("user_id", options.userId());
    }
    if (options.status() != null) {
      params.put("status", options.status());
    }
    return params;
  }
}
