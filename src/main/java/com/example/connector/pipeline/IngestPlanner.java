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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Turns a pipeline spec and a connection into a validated {@link IngestPlan}. Everything a user
 * can get wrong is checked here, before any data moves: the source's reachability and
 * credentials, table names, options, destinations, and the state a destination already holds.
 * Only then does it finish any commit a dead run left half-done, and read the cursors.
 */
public final class IngestPlanner {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");
  private static final DateTimeFormatter RUN_TIME =
      DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private IngestPlanner() {}

  public static IngestPlan plan(
      PipelineSpec spec,
      String specName,
      Connection connection,
      SourceConfig source,
      IngestOptions options,
      Instant now) {
    TableCatalog catalog;
    Instant sourceNow;
    try (ExampleClient client = ExampleClient.create(source)) {
      catalog = TableCatalog.discover(client);
      sourceNow = client.sourceTime();
    } catch (SourceException e) {
      throw new ConfigurationException(
          "connection '" + connection.name() + "': " + e.getMessage(), e);
    }
    // The cap is the source's clock, not ours: a record written while the run reads is stamped
    // at or after it, whatever the skew between the two machines, and so is left for the next run.
    Instant cap = (sourceNow != null ? sourceNow : now).truncatedTo(ChronoUnit.MICROS);
    String runId = RUN_TIME.format(now) + "-" + String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    RunStamp stamp = new RunStamp(runId, Timestamps.toMicros(now));
    OutputLayout layout = new OutputLayout(options.getOutputRoot());

    record Resolved(TableDescriptor table, TableOptions options, Destination destination) {}
    List<Resolved> resolved = new ArrayList<>();
    Map<String, String> destinations = new HashMap<>();
    for (int i = 0; i < spec.tables().size(); i++) {
      TableSpec ts = spec.tables().get(i);
      String where = specName + ": table '" + ts.sourceTable() + "' (object[" + i + "])";
      TableDescriptor table = catalog.table(ts.sourceTable(), where);
      TableOptions tableOptions =
          TableOptions.parse(
              table,
              ts.tableConfiguration(),
              connection.externalOptionsAllowList(),
              where);
      Destination d =
          new Destination(
              name(ts.destinationCatalog(), options.getDefaultCatalog(), where, "destination_catalog"),
              name(ts.destinationSchema(), options.getDefaultSchema(), where, "destination_schema"),
              name(ts.effectiveDestinationTable(), null, where, "destination_table"));
      String earlier = destinations.putIfAbsent(d.key(), where);
      if (earlier != null) {
        throw new ConfigurationException(
            where + ": lands on " + d.key() + ", as does " + earlier
                + "; give one of them another destination_table");
      }
      resolved.add(new Resolved(table, tableOptions, d));
    }

    Committer committer = new Committer(layout);
    if (!options.getDryRun()) { // a dry run writes nothing: it plans from the committed state as is
      committer.recover();
    }
    List<PlannedTable> tables = new ArrayList<>();
    for (Resolved r : resolved) {
      Optional<TableState> previous = committer.state(r.destination());
      MergeRule merge = MergeRule.of(r.table(), r.options());
      if (previous.isPresent()) {
        checkSameTable(r.destination(), r.table(), merge, previous.get(), layout);
      }
      tables.add(
          planTable(r.table(), r.options(), merge, r.destination(), previous, source, stamp, cap, runId, layout));
    }
    return new IngestPlan(runId, now, cap, layout, tables);
  }

  /** A destination keeps the source table and the way it is merged that first created it. */
  private static void checkSameTable(
      Destination destination, TableDescriptor table, MergeRule merge, TableState previous, OutputLayout layout) {
    if (!previous.sourceTable().equals(table.name())) {
      throw new ConfigurationException(
          destination + " holds table '" + previous.sourceTable() + "', not '" + table.name()
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

  private static PlannedTable planTable(
      TableDescriptor table,
      TableOptions options,
      MergeRule merge,
      Destination destination,
      Optional<TableState> previous,
      SourceConfig source,
      RunStamp stamp,
      Instant cap,
      String runId,
      OutputLayout layout) {
    ReadContext context = new ReadContext(source, table, stamp, destination.key());
    long capMicros = Timestamps.toMicros(cap);
    Map<String, String> committed = previous.map(TableState::cursors).orElse(Map.of());
    SnapshotRead snapshot = null;
    List<CursorFeed> feeds = new ArrayList<>();
    IngestionType type = table.ingestionType();
    if (type == IngestionType.SNAPSHOT) {
      snapshot = new SnapshotRead(table.name(), filters(options));
    } else {
      Map<String, String> params = filters(options);
      if (type == IngestionType.APPEND) {
        params.put("limit", Integer.toString(options.limit()));
      }
      boolean windowed = table.name().equals(TableCatalog.METRICS.name());
      feeds.add(
          feed(table, false, params, committed, options, capMicros, windowed,
              type == IngestionType.APPEND ? "append" : "upsert"));
      if (type == IngestionType.CDC_WITH_DELETES) {
        // Tombstones carry only the key and cursor, so the source cannot filter them.
        feeds.add(feed(table, true, Map.of(), committed, options, capMicros, false, "delete"));
      }
    }
    Map<String, String> cursors = new LinkedHashMap<>();
    for (CursorFeed f : feeds) {
      long from = f.fromMicros() == null ? capMicros : Math.max(f.fromMicros(), capMicros);
      cursors.put(f.feedName(), Timestamps.formatMicros(from));
    }
    List<String> committedFiles = previous.map(TableState::tableFiles).orElse(List.of());
    TableState state =
        new TableState(
            destination.key(),
            table.name(),
            type.documentedName(),
            merge,
            cursors,
            committedFiles,
            runId,
            Timestamps.format(Timestamps.fromMicros(stamp.ingestedAtMicros())));
    return new PlannedTable(
        destination,
        context,
        merge,
        snapshot,
        feeds,
        merge.readsCommittedTable()
            ? committedFiles.stream().map(f -> layout.tableDir(destination) + f).toList()
            : List.of(),
        TableCommit.planned(destination, state));
  }

  private static CursorFeed feed(
      TableDescriptor table,
      boolean tombstones,
      Map<String, String> params,
      Map<String, String> committed,
      TableOptions options,
      long capMicros,
      boolean windowed,
      String operation) {
    String name = tombstones ? "deleted_records" : "records";
    Long from = committed.containsKey(name) ? Timestamps.toMicros(Timestamps.parse(committed.get(name))) : null;
    Long start = options.startTimestamp() == null ? null : Timestamps.toMicros(options.startTimestamp());
    return new CursorFeed(
        table.name(),
        tombstones,
        params,
        from,
        start,
        capMicros,
        options.maxRecordsPerBatch(),
        operation,
        windowed ? options.windowSeconds() * 1_000_000L : null);
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

  private static String name(String value, String fallback, String where, String field) {
    String name = value != null ? value : fallback;
    if (!NAME.matcher(name).matches()) {
      throw new ConfigurationException(
          where + ": " + field + " '" + name + "' is not a plain name; use letters, digits, '_', '.' or '-'");
    }
    return name;
  }
}
