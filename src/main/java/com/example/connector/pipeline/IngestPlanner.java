package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import com.example.connector.catalog.IngestionType;
import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.TableDescriptor;
import com.example.connector.catalog.TableOptions;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.SourceConfig;
import com.example.connector.client.SourceException;
import com.example.connector.merge.MergeRule;
import com.example.connector.read.CursorFeed;
import com.example.connector.read.FeedBatch;
import com.example.connector.read.ReadContext;
import com.example.connector.read.SnapshotRead;
import com.example.connector.table.CatalogConfig;
import com.example.connector.table.Destination;
import com.example.connector.table.SnapshotSummary;
import com.example.connector.table.TableCommit;
import com.example.connector.table.TableSchemas;
import com.example.connector.table.TableTarget;
import com.example.connector.table.Warehouse;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
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
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.types.Type;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Turns a pipeline spec and a connection into a validated {@link IngestPlan}. Everything a user
 * can get wrong is checked here before any table changes: destinations, the source's reachability
 * and credentials, table names, options, and what a destination table already holds (its source
 * table, its merge, its schema). Only then are missing tables created (empty) and new columns
 * added, and the cursors read from each table's current snapshot.
 *
 * <p>Failures: a {@link ConfigurationException} for what the user must fix; a
 * {@link SourceException} when the source is unreachable or failing (retrying may help); an
 * {@link IllegalStateException} naming the table when its committed state is unreadable.
 */
public final class IngestPlanner {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter RUN_TIME =
      DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private IngestPlanner() {}

  /** One spec entry, checked: its source table, options and destination. */
  private record Resolved(TableDescriptor table, TableOptions options, Destination destination) {}

  /** What the source says at the start of the run: its tables and its clock (if it sent one). */
  private record Discovery(TableCatalog catalog, @Nullable Instant sourceNow) {}

  /** What every table of the run shares. */
  private record Run(String id, RunStamp stamp, long capMicros, CatalogConfig catalog, SourceConfig source) {}

  /** A destination table as committed: its snapshot, with its cursors read, in microseconds. */
  private record Committed(Table table, @Nullable Snapshot snapshot, Map<String, Long> cursors) {
    Committed {
      cursors = Map.copyOf(cursors);
    }

    @Nullable
    Long snapshotId() {
      return snapshot == null ? null : snapshot.snapshotId();
    }

    String uuid() {
      return table.uuid().toString();
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
        CatalogOptions.config(options), source);

    Warehouse warehouse = new Warehouse(run.catalog());
    // Every table is checked before any is created or evolved.
    for (Resolved t : tables) {
      checkCommitted(t, warehouse);
      checkColumnTypes(t, warehouse);
    }
    List<PlannedTable> planned = new ArrayList<>();
    for (Resolved t : tables) {
      planned.add(planTable(t, warehouse, run, options.getDryRun()));
    }
    return new IngestPlan(runId, cap, Timestamps.format(Timestamps.fromMicros(run.stamp().ingestedAtMicros())),
        run.catalog(), planned);
  }

  /** Every entry's destination, by the one name rule, and no two entries on the same one. */
  static List<Destination> destinations(PipelineSpec spec, String specName, IngestOptions options) {
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
   * Checks the destination table as committed, if there is one: built from the same source table
   * and merge as this run's, and its cursors and its change feed's readable.
   */
  private static void checkCommitted(Resolved t, Warehouse warehouse) {
    Destination d = t.destination();
    Table table = warehouse.find(d);
    if (table != null) {
      checkSourceTable(table, d, t);
      MergeRule merge = MergeRule.of(t.table(), t.options());
      MergeRule previous = mergeOf(table, d);
      if (!merge.equals(previous)) {
        throw new ConfigurationException(
            d + " was built with " + describe(previous) + ", but the spec now asks for "
                + describe(merge) + "; its rows cannot be reinterpreted. Keep the table's settings, or"
                + " land it on another destination_table, or rebuild it from scratch by dropping " + d);
      }
      cursorsOf(table, d, byCursor(t));
    }
    // Checked even without its table: a dropped table's change feed stays, maybe another source table's.
    Table feed = changeFeed(t, warehouse);
    if (feed != null) {
      checkSourceTable(feed, d.changeFeed(), t);
      cursorsOf(feed, d.changeFeed(), byCursor(t));
    }
  }

  /**
   * The table (or change feed) holds rows of this entry's source table, as this connector wrote
   * them, read with the same filters if read by cursor (none recorded: a table of an older run).
   */
  private static void checkSourceTable(Table table, Destination d, Resolved t) {
    String sourceTable = table.properties().get(SnapshotSummary.SOURCE_TABLE);
    if (sourceTable == null) {
      throw new ConfigurationException(d + " is an Iceberg table this connector did not create (it has no "
          + SnapshotSummary.SOURCE_TABLE + " property); choose another destination_table");
    }
    if (!sourceTable.equals(t.table().name())) {
      throw new ConfigurationException(
          d + " holds table '" + sourceTable + "', not '" + t.table().name() + "'; choose another destination_table");
    }
    // Its cursors hold for the rows its filters select: rows other filters add below them would never be read.
    String filters = table.properties().get(SnapshotSummary.FILTERS);
    String asked = filtersJson(t.options());
    if (byCursor(t) && filters != null && !filters.equals(asked)) {
      Destination base = t.destination();
      throw new ConfigurationException(d + " was read with the filters " + filters + ", but the spec now asks for "
          + asked + "; its cursors hold for the rows those select, so it would miss the rows others add below its"
          + " cursors, and keep those they leave out as they were. Keep its filters, or land it on another"
          + " destination_table, or rebuild it from scratch by dropping "
          + base + (MergeRule.of(t.table(), t.options()).appendOnly() ? "" : " and " + base.changeFeed()));
    }
  }

  /** An SCD table's change feed as it is, or null (an append table has none, or it is not created yet). */
  private static @Nullable Table changeFeed(Resolved t, Warehouse warehouse) {
    return MergeRule.of(t.table(), t.options()).appendOnly() ? null : warehouse.find(t.destination().changeFeed());
  }

  /** Fails on a column of the table or its change feed whose type the source changed (nothing is evolved here). */
  private static void checkColumnTypes(Resolved t, Warehouse warehouse) {
    Destination d = t.destination();
    Table table = warehouse.find(d);
    if (table != null) {
      Warehouse.evolve(table, icebergSchema(t, false), d.key(), false);
    }
    Table feed = changeFeed(t, warehouse);
    if (feed != null) {
      Warehouse.evolve(feed, icebergSchema(t, true), d.changeFeed().key(), false);
    }
  }

  /** The Iceberg schema of the destination table, or of its change feed, as this run writes it. */
  private static org.apache.iceberg.Schema icebergSchema(Resolved t, boolean changeFeed) {
    MergeRule merge = MergeRule.of(t.table(), t.options());
    org.apache.avro.Schema feedSchema = RecordSchemas.schemaOf(t.table());
    return changeFeed ? TableSchemas.toIceberg(feedSchema, List.of())
        : TableSchemas.toIceberg(merge.tableSchema(feedSchema), merge.identifierColumns());
  }

  /**
   * The table at its current snapshot, with the cursors of the newest snapshot the connector
   * committed ({@link SnapshotSummary#lastCommitted}): a snapshot another writer committed on top
   * (a row deleted in Spark, say) moves no cursor. A table read by cursor ({@code byCursor}) that
   * holds snapshots but none of the connector's is refused: reading it from the start would
   * append every row again.
   */
  private static Committed cursorsOf(Table table, Destination d, boolean byCursor) {
    Snapshot snapshot = table.currentSnapshot();
    Snapshot committed = SnapshotSummary.lastCommitted(table, snapshot);
    if (snapshot != null && committed == null && byCursor) {
      throw new IllegalStateException(d + ": no snapshot left in its history was committed by this connector"
          + " (its current one, " + snapshot.snapshotId() + ", by another writer; the connector's own were expired),"
          + " so where its reads stopped is unknown. Drop the table and its change feed to load them again from"
          + " the source, or restore a snapshot the connector committed");
    }
    Map<String, Long> cursors = SnapshotSummary.cursorMicros(committed, d.key());
    return new Committed(table, snapshot, cursors);
  }

  private static boolean byCursor(Resolved t) {
    return t.table().ingestionType() != IngestionType.SNAPSHOT;
  }

  private static MergeRule mergeOf(Table table, Destination d) {
    String json = table.properties().get(SnapshotSummary.MERGE);
    try {
      return json == null ? null : JSON.readValue(json, MergeRule.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(d + ": table property " + SnapshotSummary.MERGE + " is unreadable ("
          + e.getOriginalMessage() + "); restore it, or rebuild the table", e);
    }
  }

  private static String describe(MergeRule merge) {
    return merge == null ? "no recorded settings (an older connector's state)"
        : merge.appendOnly() ? "append only"
        : merge.scdType() + ", primary_keys " + merge.keys()
            + (merge.sequenceBy() != null ? ", sequence_by " + merge.sequenceBy() : "");
  }

  /**
   * The table's plan. Unless this is a dry run, a missing table (and an SCD table's change feed)
   * is created empty, and the source's new columns are added to an existing one.
   */
  private static PlannedTable planTable(Resolved t, Warehouse warehouse, Run run, boolean dryRun) {
    TableDescriptor table = t.table();
    Destination d = t.destination();
    MergeRule merge = MergeRule.of(table, t.options());
    org.apache.iceberg.Schema tableSchema = icebergSchema(t, false);
    Optional<Committed> committed = prepare(d, tableSchema, properties(t, merge), warehouse, dryRun)
        .map(c -> cursorsOf(c, d, byCursor(t)));
    Optional<Committed> feedTable = merge.appendOnly() ? Optional.empty()
        : prepare(d.changeFeed(), icebergSchema(t, true), properties(t, null), warehouse, dryRun)
            .map(c -> cursorsOf(c, d.changeFeed(), byCursor(t)));
    Map<String, Long> tableCursors = committed.map(Committed::cursors).orElse(Map.of());
    Map<String, Long> feedCursors = feedTable.map(Committed::cursors).orElse(Map.of());
    // Reads start at the lower of the table's and the change feed's cursors; the feed then keeps
    // only the rows it does not hold (a run that committed its feed and died before its table).
    // A table without a cursor has read nothing: it starts at the beginning, below any feed cursor.
    Map<String, Long> from = new HashMap<>(tableCursors);
    // A snapshot table reads no cursor: its change feed takes each run's snapshot whole.
    Map<String, Long> changeFeedFrom = new HashMap<>();
    if (byCursor(t)) {
      feedCursors.forEach((feed, cursor) -> {
        Long own = tableCursors.get(feed);
        if (own != null && cursor < own) {
          from.put(feed, cursor);
        } else if (own == null || cursor > own) {
          changeFeedFrom.put(feed, cursor);
        }
      });
    }
    SnapshotRead snapshot = null;
    Long snapshotAt = null;
    List<CursorFeed> feeds = new ArrayList<>();
    Map<String, Long> cursors;
    if (!byCursor(t)) {
      snapshot = new SnapshotRead(table.name(), filters(t.options()));
      // The snapshot's time, which its rows and the versions it closes carry: never at or below the
      // table's last one (a source clock that went back), or a type 2 history would order the new
      // snapshot before the one it replaces. Committed as the table's cursor, as continuous runs do.
      Long last = tableCursors.get(FeedBatch.SNAPSHOT);
      snapshotAt = last == null ? run.capMicros() : Math.max(run.capMicros(), last + 1);
      cursors = Map.of(FeedBatch.SNAPSHOT, snapshotAt);
    } else {
      feeds.addAll(feeds(table, t.options(), from, run.capMicros()));
      cursors = cursorsAfter(feeds);
    }
    // A change feed's cursor never moves back: a feed ahead of its table (a run that committed the
    // feed and died) holds the rows up to its cursor, which this run's cap may be below (a source
    // clock that went back); committed lower, the next run would append those rows again.
    Map<String, Long> feedCursorsAfter = new LinkedHashMap<>(cursors);
    feedCursors.forEach((feed, cursor) -> feedCursorsAfter.computeIfPresent(feed, (f, c) -> Math.max(c, cursor)));
    Long base = committed.map(Committed::snapshotId).orElse(null);
    List<FileScanTask> files = !merge.appendOnly() && base != null
        ? Warehouse.files(committed.get().table(), base) : List.of();
    Type firstKeyType = merge.appendOnly() ? null : tableSchema.findType(merge.keys().get(0));
    TableTarget target = new TableTarget(run.catalog(), d);
    return new PlannedTable(
        d,
        target,
        new ReadContext(run.source(), table, run.stamp(), d.key()),
        merge,
        snapshot,
        feeds,
        files,
        firstKeyType,
        TableCommit.of(target, committed.map(Committed::uuid).orElse(null), base, cursors),
        merge.appendOnly() ? null
            : TableCommit.of(target.changeFeed(), feedTable.map(Committed::uuid).orElse(null),
                feedTable.map(Committed::snapshotId).orElse(null), feedCursorsAfter),
        changeFeedFrom,
        snapshotAt);
  }

  /** The table as it is, after creating it or adding the run's new columns (not in a dry run). */
  private static Optional<Table> prepare(Destination d, org.apache.iceberg.Schema schema,
      Map<String, String> properties, Warehouse warehouse, boolean dryRun) {
    Table table = warehouse.find(d);
    if (table != null) {
      Warehouse.evolve(table, schema, d.key(), !dryRun);
      return Optional.of(table);
    }
    return dryRun ? Optional.empty() : Optional.of(warehouse.create(d, schema, properties));
  }

  /** What the table keeps for good: its source table, ingestion type and merge (null: a change feed). */
  private static Map<String, String> properties(Resolved t, @Nullable MergeRule merge) {
    Map<String, String> properties = new HashMap<>();
    properties.put(SnapshotSummary.SOURCE_TABLE, t.table().name());
    properties.put(SnapshotSummary.INGESTION_TYPE, t.table().ingestionType().documentedName());
    if (byCursor(t)) {
      properties.put(SnapshotSummary.FILTERS, filtersJson(t.options()));
    }
    if (merge != null) {
      try {
        properties.put(SnapshotSummary.MERGE, JSON.writeValueAsString(merge));
      } catch (JsonProcessingException e) {
        throw new UncheckedIOException(e);
      }
    }
    return properties;
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
        committed.get(CursorFeed.feedName(tombstones)),
        start,
        capMicros,
        options.maxRecordsPerBatch(),
        operation,
        // TableOptions bounds the window so that this product cannot overflow.
        windowed ? options.windowSeconds() * 1_000_000L : null);
  }

  /** The cursor each feed commits, by feed name. */
  private static Map<String, Long> cursorsAfter(List<CursorFeed> feeds) {
    Map<String, Long> cursors = new LinkedHashMap<>();
    feeds.forEach(f -> cursors.put(f.feedName(), committedCursor(f)));
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

  /** The source filters as a table property records them: a JSON object, its keys sorted. */
  private static String filtersJson(TableOptions options) {
    try {
      return JSON.writeValueAsString(new TreeMap<>(filters(options)));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
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
