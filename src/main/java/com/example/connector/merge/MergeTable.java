package com.example.connector.merge;

import com.example.connector.catalog.RecordSchemas;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Merges a destination table as committed with the changes a run read, keyed by primary key, into
 * the table's next version, applying {@link KeyHistory} to each key.
 *
 * <p>Only the keys a run touched are shuffled: the changed keys go to every worker as a side
 * input of a fixed size ({@link ChangedKeys}, a 1 MB Bloom filter), committed rows of other keys
 * pass straight through, and the touched committed rows meet the changes in {@link KeyBuckets} (a
 * GroupByKey by bucket), where each key is replayed. So the merge holds, per worker thread, the
 * filter plus one bucket (about {@link KeyBuckets#ROWS_PER_BUCKET} rows), not the table. The
 * table is copy-on-write, though: an incremental run still reads every committed row and writes
 * the whole new version, so its reads and writes grow with the table and its shuffle with its
 * changes. (A snapshot touches every key: its whole table is shuffled.)
 *
 * <p>Every change must have a value in each primary key column (a {@code primary_keys} override
 * may name a nullable one): rows without one would all merge into one key, so the table fails.
 *
 * <p>A table's first version, when the reads guarantee one change per key ({@code
 * oneChangePerKey}: a cursor feed of the source's own keys, ordered by its cursor, reads each
 * record once per run, and a record outranks any tombstone of its key read with it, since the
 * source deletes a record when it writes its tombstone), needs no shuffle at all: each change is
 * replayed on its own.
 *
 * <p>Input: a tuple of {@link #COMMITTED} (rows in the table's schema) and {@link #CHANGES} (rows
 * in the change feed's schema). Output: every row of the new table version, counted in the
 * destination's {@code table_rows} metric.
 */
public class MergeTable extends PTransform<PCollectionTuple, PCollection<GenericRecord>> {
  public static final TupleTag<GenericRecord> COMMITTED = new TupleTag<>("committed") {};
  public static final TupleTag<GenericRecord> CHANGES = new TupleTag<>("changes") {};
  private static final TupleTag<GenericRecord> UNTOUCHED = new TupleTag<>("untouched") {};
  private static final TupleTag<GenericRecord> TOUCHED = new TupleTag<>("touched") {};
  private static final int COMMITTED_TAG = 0;
  private static final int CHANGES_TAG = 1;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final MergeRule rule;
  private final String feedSchemaJson;
  private final @Nullable Long snapshotAt;
  /** The destination ({@code catalog.schema.table}): names its row counter and its errors. */
  private final String table;
  private final boolean firstVersion;
  private final boolean oneChangePerKey;
  private final long rowsPerBucket;
  private final int changedKeyBits;

  /**
   * @param snapshotAt for a snapshot table, the sequence of this run's snapshot (the source's
   *     clock when the run started, in microseconds)
   * @param firstVersion whether the table has no committed version yet
   * @param oneChangePerKey whether the reads guarantee the condition above
   */
  public MergeTable(MergeRule rule, Schema feedSchema, @Nullable Long snapshotAt, String table,
      boolean firstVersion, boolean oneChangePerKey) {
    this(rule, feedSchema, snapshotAt, table, firstVersion, oneChangePerKey, KeyBuckets.ROWS_PER_BUCKET,
        ChangedKeys.DEFAULT_BITS);
  }

  /** With buckets of about {@code rowsPerBucket} rows and a changed-key filter of that many bits (tests). */
  MergeTable(MergeRule rule, Schema feedSchema, @Nullable Long snapshotAt, String table,
      boolean firstVersion, boolean oneChangePerKey, long rowsPerBucket, int changedKeyBits) {
    this.rule = rule;
    this.feedSchemaJson = feedSchema.toString();
    this.snapshotAt = snapshotAt;
    this.table = table;
    this.firstVersion = firstVersion;
    this.oneChangePerKey = oneChangePerKey;
    this.rowsPerBucket = rowsPerBucket;
    this.changedKeyBits = changedKeyBits;
  }

  @Override
  public PCollection<GenericRecord> expand(PCollectionTuple input) {
    Schema feedSchema = new Schema.Parser().parse(feedSchemaJson);
    Schema tableSchema = rule.tableSchema(feedSchema);
    Replay replay = new Replay(rule, feedSchemaJson, snapshotAt, table);
    PCollection<GenericRecord> changes = input.get(CHANGES)
        .apply("Check primary keys", ParDo.of(new CheckKeysFn(rule.keys(), table)))
        .setCoder(AvroCoder.of(feedSchema));
    if (firstVersion && oneChangePerKey) {
      return changes
          .apply("Replay each change", ParDo.of(new ReplayChangeFn(replay)))
          .setCoder(AvroCoder.of(tableSchema));
    }
    if (rule.snapshot()) {
      // A complete image touches every key: one missing from it was deleted.
      return group(input.get(COMMITTED), changes, tableSchema, feedSchema, replay);
    }
    PCollectionView<ChangedKeys> changedKeys =
        changes.apply("Changed keys", Combine.globally(new ChangedKeys.Collect(rule.keys(), changedKeyBits))
            .asSingletonView());
    PCollectionTuple committed =
        input.get(COMMITTED)
            .apply("Split committed rows", ParDo.of(new SplitFn(rule.keys(), changedKeys))
                .withSideInputs(changedKeys)
                .withOutputTags(UNTOUCHED, TupleTagList.of(TOUCHED)));
    PCollection<GenericRecord> untouched =
        committed.get(UNTOUCHED)
            .setCoder(AvroCoder.of(tableSchema))
            .apply("Count untouched rows", ParDo.of(new CountFn(replay)))
            .setCoder(AvroCoder.of(tableSchema));
    PCollection<GenericRecord> merged =
        group(committed.get(TOUCHED).setCoder(AvroCoder.of(tableSchema)), changes, tableSchema, feedSchema, replay);
    return PCollectionList.of(untouched).and(merged).apply("New version", Flatten.pCollections());
  }

  /**
   * Committed rows and changes of the same keys, gathered in key buckets and replayed key by key.
   * One GroupByKey of both, told apart by a union tag, and not a CoGroupByKey: its result re-reads
   * a group of more than 10,000 rows, which Flink's batch groups do not allow.
   */
  private PCollection<GenericRecord> group(PCollection<GenericRecord> committed,
      PCollection<GenericRecord> changes, Schema tableSchema, Schema feedSchema, Replay replay) {
    KeyBuckets buckets = KeyBuckets.sizedFor(replay.rule().keys(), List.of(committed, changes), rowsPerBucket);
    Coder<KV<Integer, RawUnionValue>> tagged = KvCoder.of(VarIntCoder.of(),
        UnionCoder.of(List.of(AvroCoder.of(tableSchema), AvroCoder.of(feedSchema))));
    return PCollectionList
        .of(buckets.assign("Bucket committed rows", committed, tableSchema)
            .apply("Tag committed rows", ParDo.of(new TagFn(COMMITTED_TAG))).setCoder(tagged))
        .and(buckets.assign("Bucket changes", changes, feedSchema)
            .apply("Tag changes", ParDo.of(new TagFn(CHANGES_TAG))).setCoder(tagged))
        .apply("Rows and changes", Flatten.pCollections())
        .apply("Gather buckets", GroupByKey.create())
        .apply("Replay each key", ParDo.of(new ReplayBucketFn(replay)))
        .setCoder(AvroCoder.of(tableSchema));
  }

  /** A row's primary key values as a JSON array (nulls kept, types told apart). */
  static String keyOf(GenericRecord row, List<String> keys) {
    List<Object> values = new ArrayList<>(keys.size());
    for (String key : keys) {
      Object v = row.get(key);
      values.add(v instanceof CharSequence ? v.toString() : v);
    }
    try {
      return JSON.writeValueAsString(values);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Fails the table on a change without a value in a primary key column. */
  private static class CheckKeysFn extends DoFn<GenericRecord, GenericRecord> {
    private final List<String> keys;
    private final String table;

    CheckKeysFn(List<String> keys, String table) {
      this.keys = keys;
      this.table = table;
    }

    @ProcessElement
    public void process(@Element GenericRecord row, OutputReceiver<GenericRecord> out) {
      for (String key : keys) {
        if (row.get(key) == null) {
          throw new IllegalStateException("table " + table + ": primary key column '" + key + "' is null in "
              + (Boolean.TRUE.equals(row.get(RecordSchemas.IS_DELETED)) ? "a delete (tombstone)" : "a record")
              + " read by this run; rows without a key would all merge into one. Key the table by columns"
              + " that always have a value (table_configuration.primary_keys " + keys + ")");
        }
      }
      out.output(row);
    }
  }

  /** Committed rows of keys this run did not change pass through; the others are keyed for the merge. */
  private static class SplitFn extends DoFn<GenericRecord, GenericRecord> {
    private final List<String> keys;
    private final PCollectionView<ChangedKeys> changedKeys;

    SplitFn(List<String> keys, PCollectionView<ChangedKeys> changedKeys) {
      this.keys = keys;
      this.changedKeys = changedKeys;
    }

    @ProcessElement
    public void process(@Element GenericRecord row, MultiOutputReceiver out, ProcessContext context) {
      if (context.sideInput(changedKeys).mightContain(keyOf(row, keys))) {
        out.get(TOUCHED).output(row);
      } else {
        out.get(UNTOUCHED).output(row);
      }
    }
  }

  /** What the replaying DoFns share: how to build a key's history, and the row counter. */
  private record Replay(MergeRule rule, String feedSchemaJson, @Nullable Long snapshotAt, String table)
      implements java.io.Serializable {
    KeyHistory history() {
      return new KeyHistory(rule, new Schema.Parser().parse(feedSchemaJson), snapshotAt);
    }

    Counter rows() {
      return Metrics.counter(table, "table_rows");
    }
  }

  /** Applies {@link KeyHistory} and counts the rows it emits. */
  // Public: a private generic base would make javac add bridge methods Beam's signature checks reject.
  public abstract static class ReplayFn<InputT> extends DoFn<InputT, GenericRecord> {
    private final Replay replay;
    private final Counter rows;
    private transient KeyHistory history;

    ReplayFn(Replay replay) {
      this.replay = replay;
      this.rows = replay.rows();
    }

    @Setup
    public void setup() {
      history = replay.history();
    }

    void emit(Iterable<GenericRecord> committed, Iterable<GenericRecord> changes, OutputReceiver<GenericRecord> out) {
      for (GenericRecord row : history.merge(committed, changes)) {
        out.output(row);
        rows.inc();
      }
    }
  }

  private static class TagFn extends DoFn<KV<Integer, GenericRecord>, KV<Integer, RawUnionValue>> {
    private final int tag;

    TagFn(int tag) {
      this.tag = tag;
    }

    @ProcessElement
    public void process(@Element KV<Integer, GenericRecord> row, OutputReceiver<KV<Integer, RawUnionValue>> out) {
      out.output(KV.of(row.getKey(), new RawUnionValue(tag, row.getValue())));
    }
  }

  /** Splits a bucket by key, reading it once, and replays each key (a bucket is what is held in memory). */
  private static class ReplayBucketFn extends ReplayFn<KV<Integer, Iterable<RawUnionValue>>> {
    private final List<String> keys;

    ReplayBucketFn(Replay replay) {
      super(replay);
      this.keys = replay.rule().keys();
    }

    @ProcessElement
    public void process(@Element KV<Integer, Iterable<RawUnionValue>> bucket, OutputReceiver<GenericRecord> out) {
      Map<String, KeyRows> byKey = new HashMap<>();
      for (RawUnionValue tagged : bucket.getValue()) {
        GenericRecord row = (GenericRecord) tagged.getValue();
        KeyRows rows = byKey.computeIfAbsent(keyOf(row, keys), k -> new KeyRows());
        (tagged.getUnionTag() == COMMITTED_TAG ? rows.committed : rows.changes).add(row);
      }
      for (KeyRows key : byKey.values()) {
        emit(key.committed, key.changes, out);
      }
    }

    private static final class KeyRows {
      final List<GenericRecord> committed = new ArrayList<>();
      final List<GenericRecord> changes = new ArrayList<>();
    }
  }

  private static class ReplayChangeFn extends ReplayFn<GenericRecord> {
    ReplayChangeFn(Replay replay) {
      super(replay);
    }

    @ProcessElement
    public void process(@Element GenericRecord change, OutputReceiver<GenericRecord> out) {
      emit(List.of(), List.of(change), out);
    }
  }

  private static class CountFn extends DoFn<GenericRecord, GenericRecord> {
    private final Counter rows;

    CountFn(Replay replay) {
      this.rows = replay.rows();
    }

    @ProcessElement
    public void process(@Element GenericRecord row, OutputReceiver<GenericRecord> out) {
      out.output(row);
      rows.inc();
    }
  }
}
