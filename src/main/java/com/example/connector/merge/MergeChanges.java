package com.example.connector.merge;

import com.example.connector.Groups;
import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.ScdType;
import com.example.connector.table.IcebergValueCoder;
import com.example.connector.table.RowPosition;
import com.example.connector.table.TableTarget;
import com.example.connector.table.Warehouse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.CombineFns;
import org.apache.beam.sdk.transforms.CombineFns.CoCombineResult;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.SerializableFunctions;
import org.apache.beam.sdk.transforms.SimpleFunction;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.types.Type;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Merges the changes a run read into an SCD table as row-level changes: the rows to insert and
 * the committed rows to delete (by file and position), so that a run costs what it changed, not
 * the table (merge-on-read, as Iceberg's Flink upsert sink writes).
 *
 * <p>Only committed rows of changed keys are read: the data files of the committed snapshot whose
 * key statistics may hold a changed key ({@link ChangedKeyValues}), and of those the rows whose key
 * a Bloom filter of the changed keys may hold ({@link ChangedKeys}), and of a type 1 table only
 * their key and sequence ({@link #locatedSchema}). They meet the changes in
 * {@link KeyBuckets} (a GroupByKey by bucket), where each key's history is replayed ({@link
 * KeyHistory}) and the result compared with the key's committed rows: a committed row the result
 * no longer holds is deleted, a row of the result not committed is inserted, and a key whose rows
 * did not change writes nothing. A snapshot table touches every key (one missing from the new
 * snapshot was deleted), so it reads its whole table, but still writes only what changed.
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
 * <p>Input: the change feed rows. Output: {@link #INSERTS} (rows in the table's schema) and
 * {@link #DELETES}, counted in the destination's {@code rows_inserted} and {@code rows_deleted}.
 */
public class MergeChanges extends PTransform<PCollection<GenericRecord>, PCollectionTuple> {
  public static final TupleTag<GenericRecord> INSERTS = new TupleTag<>("inserts") {};
  public static final TupleTag<RowPosition> DELETES = new TupleTag<>("deletes") {};
  /** The number of changes, in the side input of the changes' summaries. */
  static final TupleTag<Long> CHANGE_COUNT = new TupleTag<>("change count");
  /** The data file and position of a committed row read for the merge. */
  static final String FILE = "_file";
  static final String POSITION = "_pos";
  private static final int COMMITTED_TAG = 0;
  private static final int CHANGES_TAG = 1;
  /** A read group's share of the table: Iceberg's own split size for reads (128 MB). */
  static final long GROUP_BYTES = TableProperties.SPLIT_SIZE_DEFAULT;
  private static final GenericData DATA = GenericData.get();

  private final MergeRule rule;
  private final String feedSchemaJson;
  private final @Nullable Long snapshotAt;
  private final TableTarget target;
  private final List<FileScanTask> committed;
  private final Type firstKeyType;
  private final boolean oneChangePerKey;
  private final long rowsPerBucket;

  /**
   * @param snapshotAt for a snapshot table, the sequence of this run's snapshot (the source's
   *     clock when the run started, in microseconds)
   * @param committed the data files of the table's committed snapshot, with their deletes
   * @param firstKeyType the Iceberg type of the first primary key column
   * @param oneChangePerKey whether the reads guarantee the condition above
   */
  public MergeChanges(MergeRule rule, Schema feedSchema, @Nullable Long snapshotAt, TableTarget target,
      List<FileScanTask> committed, Type firstKeyType, boolean oneChangePerKey) {
    this(rule, feedSchema, snapshotAt, target, committed, firstKeyType, oneChangePerKey, KeyBuckets.ROWS_PER_BUCKET);
  }

  /** With buckets of about {@code rowsPerBucket} rows (tests). */
  MergeChanges(MergeRule rule, Schema feedSchema, @Nullable Long snapshotAt, TableTarget target,
      List<FileScanTask> committed, Type firstKeyType, boolean oneChangePerKey, long rowsPerBucket) {
    this.rule = rule;
    this.feedSchemaJson = feedSchema.toString();
    this.snapshotAt = snapshotAt;
    this.target = target;
    this.committed = List.copyOf(committed);
    this.firstKeyType = firstKeyType;
    this.oneChangePerKey = oneChangePerKey;
    this.rowsPerBucket = rowsPerBucket;
  }

  /**
   * What a committed row read for the merge is: its columns the merge needs, with its file and
   * position. An SCD type 1 table of changes ({@link #oneRowPerChangedKey}) needs only the key and
   * sequence, whatever else the row holds, so the read decodes two or three columns of a wide
   * table, not all (as Spark's merge-on-read MERGE reads its target). Others need every column: a
   * snapshot table compares each row with the snapshot's, an SCD type 2 table copies the version
   * it closes.
   */
  static Schema locatedSchema(MergeRule rule, Schema tableSchema) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : tableSchema.getFields()) {
      if (!oneRowPerChangedKey(rule) || rule.keys().contains(f.name()) || f.name().equals(rule.sequenceBy())) {
        fields.add(new Schema.Field(f.name(), f.schema(), f.doc(), f.defaultVal()));
      }
    }
    fields.add(new Schema.Field(FILE, Schema.create(Schema.Type.STRING)));
    fields.add(new Schema.Field(POSITION, Schema.create(Schema.Type.LONG)));
    return Schema.createRecord(tableSchema.getName(), null, tableSchema.getNamespace() + ".located", false, fields);
  }

  /**
   * An SCD type 1 table of changes: a changed key has one committed row, which the merge keeps or
   * replaces by the change that outranks it.
   */
  private static boolean oneRowPerChangedKey(MergeRule rule) {
    return rule.scdType() == ScdType.SCD_TYPE_1 && !rule.snapshot();
  }

  @Override
  public PCollectionTuple expand(PCollection<GenericRecord> changes) {
    Schema feedSchema = new Schema.Parser().parse(feedSchemaJson);
    Schema tableSchema = rule.tableSchema(feedSchema);
    Replay replay = new Replay(rule, feedSchemaJson, snapshotAt, target.destination().key());
    TupleTagList deletes = TupleTagList.of(DELETES);
    PCollectionTuple merged;
    if (committed.isEmpty() && oneChangePerKey) {
      merged = changes.apply("Replay each change", ParDo.of(new ReplayChangeFn(replay)).withOutputTags(INSERTS, deletes));
    } else {
      Schema located = locatedSchema(rule, tableSchema);
      PCollectionView<CoCombineResult> summaries = rule.snapshot() ? null : summaries(changes, feedSchema);
      PCollection<GenericRecord> committedRows = committedRows(changes.getPipeline(), located, summaries);
      merged = group(committedRows, changes, located, feedSchema, summaries, replay);
    }
    merged.get(INSERTS).setCoder(AvroCoder.of(tableSchema));
    merged.get(DELETES).setCoder(RowPosition.Coder.of());
    return merged;
  }

  /**
   * The changes' summaries: their keys' filter ({@link ReadCommittedRows#KEYS}) and first key
   * column's values ({@link ReadCommittedRows#KEY_VALUES}), which the committed read takes, and
   * their count ({@link #CHANGE_COUNT}), which sizes a type 1 merge's buckets. One combine, one
   * pass over the changes and one side input: the count was a combine and a view of its own, more
   * steps for a runner to translate and schedule. The combine emits its empty summaries when there
   * are no changes, and the view holds them, rather than a view that only defaults to them: the
   * DirectRunner never ended a run in which nothing changed whose buckets waited on such a view.
   */
  private PCollectionView<CoCombineResult> summaries(PCollection<GenericRecord> changes, Schema feedSchema) {
    SimpleFunction<GenericRecord, GenericRecord> row = SimpleFunction.fromSerializableFunctionWithOutputType(
        SerializableFunctions.identity(), TypeDescriptor.of(GenericRecord.class));
    return changes.apply("Changed keys", Combine.globally(CombineFns.compose()
            .with(row, AvroCoder.of(feedSchema),
                new ChangedKeys.Collect(rule.keys(), ChangedKeys.DEFAULT_BITS), ReadCommittedRows.KEYS)
            .with(row, AvroCoder.of(feedSchema),
                new ChangedKeyValues.Collect(rule.keys().get(0), firstKeyType), ReadCommittedRows.KEY_VALUES)
            .with(row, AvroCoder.of(feedSchema), Count.combineFn(), CHANGE_COUNT)))
        .apply("As a view", View.asSingleton());
  }

  /**
   * The committed rows of the keys the changes touch ({@code summaries}), or of every key (a
   * snapshot table, no summaries).
   */
  private PCollection<GenericRecord> committedRows(Pipeline pipeline, Schema located,
      @Nullable PCollectionView<CoCombineResult> summaries) {
    List<PCollectionView<?>> sideInputs = summaries == null ? List.of() : List.of(summaries);
    return pipeline
        .apply("Committed files", Create.of(readGroups(rowGroups(committed)))
            .withCoder(ListCoder.of(IcebergValueCoder.of(FileScanTask.class))))
        // Files listed on one worker, read on all of them.
        .apply("Spread files", Reshuffle.viaRandomKey())
        .apply("Read committed rows", ParDo.of(new ReadCommittedRows(target, located, rule.keys(), summaries))
            .withSideInputs(sideInputs))
        .setCoder(AvroCoder.of(located));
  }

  /**
   * Row groups dealt into the groups the workers read, one element each, a group per {@link
   * #GROUP_BYTES} of the table (at least one), so that a large table's read spreads over as many
   * workers as the runner has. A worker reads a group's row groups side by side on its cores
   * ({@link ReadCommittedRows}), so a small table's read does not depend on where a runner places
   * its groups: Flink placed two groups on one of its two subtasks in half the runs, which then
   * read them one after the other while the other idled.
   */
  static List<List<FileScanTask>> readGroups(List<FileScanTask> rowGroups) {
    long bytes = rowGroups.stream().mapToLong(FileScanTask::length).sum();
    long groups = Math.max(1, (bytes + GROUP_BYTES - 1) / GROUP_BYTES);
    return Groups.deal(rowGroups, (int) Math.min(groups, Integer.MAX_VALUE));
  }

  /**
   * The committed files cut at their row groups, so that a large file is read by several workers
   * at once (Iceberg cuts a file at each row group offset it recorded; a file written without
   * them, every {@link Warehouse#ROW_GROUP_BYTES}).
   */
  static List<FileScanTask> rowGroups(List<FileScanTask> files) {
    List<FileScanTask> splits = new ArrayList<>();
    files.forEach(file -> file.split(Warehouse.ROW_GROUP_BYTES).forEach(splits::add));
    return splits;
  }

  /**
   * Committed rows and changes of the same keys, gathered in key buckets and replayed key by key.
   * One GroupByKey of both, told apart by a union tag, and not a CoGroupByKey: its result re-reads
   * a group of more than 10,000 rows, which Flink's batch groups do not allow.
   */
  private PCollectionTuple group(PCollection<GenericRecord> committedRows, PCollection<GenericRecord> changes,
      Schema located, Schema feedSchema, @Nullable PCollectionView<CoCombineResult> summaries, Replay replay) {
    KeyBuckets<?> buckets = oneRowPerChangedKey(rule)
        ? KeyBuckets.sizedForChanges(rule.keys(), summaries, CHANGE_COUNT, committedRowCount(), rowsPerBucket)
        : KeyBuckets.sizedFor(rule.keys(), List.of(committedRows, changes), rowsPerBucket);
    Coder<KV<Integer, RawUnionValue>> tagged = KvCoder.of(VarIntCoder.of(),
        UnionCoder.of(List.of(AvroCoder.of(located), AvroCoder.of(feedSchema))));
    return PCollectionList
        .of(buckets.assign("Bucket committed rows", committedRows, located)
            .apply("Tag committed rows", ParDo.of(new TagFn(COMMITTED_TAG))).setCoder(tagged))
        .and(buckets.assign("Bucket changes", changes, feedSchema)
            .apply("Tag changes", ParDo.of(new TagFn(CHANGES_TAG))).setCoder(tagged))
        .apply("Rows and changes", Flatten.pCollections())
        .apply("Gather buckets", GroupByKey.create())
        .apply("Replay each key", ParDo.of(new ReplayBucketFn(replay)).withOutputTags(INSERTS, TupleTagList.of(DELETES)));
  }

  /** The rows of the committed data files, deleted ones included. */
  private long committedRowCount() {
    return committed.stream().mapToLong(task -> task.file().recordCount()).sum();
  }

  /** A row's primary key values, one string (see {@link #keyOf(List)}). */
  static String keyOf(GenericRecord row, List<String> keys) {
    return keyOf(keyValues(row, keys));
  }

  /** A row's primary key values, in the keys' order. */
  static List<Object> keyValues(GenericRecord row, List<String> keys) {
    List<Object> values = new ArrayList<>(keys.size());
    for (String key : keys) {
      values.add(row.get(key));
    }
    return values;
  }

  /**
   * Primary key values as one string, unambiguous: each value tagged with its type and a string
   * with its length, nulls kept; a string is a string whether Avro holds it as {@code Utf8} or
   * {@code String}. Built per row a merge gathers, so it costs a string builder, not a JSON
   * writer.
   */
  static String keyOf(List<?> values) {
    return writeKey(values, new StringBuilder()).toString();
  }

  /**
   * Appends {@link #keyOf(List)}'s characters to {@code out}: one format for the key's string and
   * for the changed keys' filter, which hashes them as they come ({@link ChangedKeys#hash}).
   */
  static <A extends Appendable> A writeKey(List<?> values, A out) {
    try {
      for (Object v : values) {
        if (v == null) {
          out.append('n');
        } else if (v instanceof CharSequence s) {
          out.append('s').append(Integer.toString(s.length())).append(':').append(s);
        } else {
          out.append(v.getClass().getSimpleName().charAt(0)).append(v.toString());
        }
        out.append(';');
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e); // neither a string builder nor a hash writes anywhere
    }
  }

  /**
   * Fails the table on a change without a value in a primary key column: checked as changes meet
   * their key's other rows (a replay), not in a step of its own, which on Flink was one more stage
   * between the read and the merge.
   */
  static void checkKeys(GenericRecord row, List<String> keys, String table) {
    for (String key : keys) {
      if (row.get(key) == null) {
        throw new IllegalStateException("table " + table + ": primary key column '" + key + "' is null in "
            + (Boolean.TRUE.equals(row.get(RecordSchemas.IS_DELETED)) ? "a delete (tombstone)" : "a record")
            + " read by this run; rows without a key would all merge into one. Key the table by columns"
            + " that always have a value (table_configuration.primary_keys " + keys + ")");
      }
    }
  }

  /** What the replaying DoFns share: how to build a key's history, and the counters. */
  private record Replay(MergeRule rule, String feedSchemaJson, @Nullable Long snapshotAt, String table)
      implements java.io.Serializable {}

  /**
   * Applies {@link KeyHistory} to a key and writes the difference with its committed rows:
   * inserts of the rows it does not hold, deletes of those it no longer does.
   */
  // Public: a private generic base would make javac add bridge methods Beam's signature checks reject.
  public abstract static class ReplayFn<InputT> extends DoFn<InputT, GenericRecord> {
    private final Replay replay;
    private final Counter inserted;
    private final Counter deleted;
    private transient KeyReplay keyReplay;

    ReplayFn(Replay replay) {
      this.replay = replay;
      this.inserted = Metrics.counter(replay.table(), "rows_inserted");
      this.deleted = Metrics.counter(replay.table(), "rows_deleted");
    }

    Replay replay() {
      return replay;
    }

    @Setup
    public void setup() {
      keyReplay = new KeyReplay(replay.rule(), new Schema.Parser().parse(replay.feedSchemaJson()), replay.snapshotAt(),
          replay.table());
    }

    void emit(List<GenericRecord> committed, List<GenericRecord> changes, MultiOutputReceiver out) {
      keyReplay.replay(committed, changes, row -> {
        out.get(INSERTS).output(row);
        inserted.inc();
      }, gone -> {
        out.get(DELETES).output(gone);
        deleted.inc();
      });
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
    public void process(@Element KV<Integer, Iterable<RawUnionValue>> bucket, MultiOutputReceiver out) {
      Map<String, KeyRows> byKey = new HashMap<>();
      for (RawUnionValue tagged : bucket.getValue()) {
        GenericRecord row = (GenericRecord) tagged.getValue();
        if (tagged.getUnionTag() == CHANGES_TAG) {
          checkKeys(row, keys, replay().table());
        }
        KeyRows rows = byKey.computeIfAbsent(keyOf(row, keys), k -> new KeyRows());
        (tagged.getUnionTag() == COMMITTED_TAG ? rows.committed : rows.changes).add(row);
      }
      for (KeyRows key : byKey.values()) {
        if (!key.changes.isEmpty() || replay().rule().snapshot()) {
          emit(key.committed, key.changes, out);
        }
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
    public void process(@Element GenericRecord change, MultiOutputReceiver out) {
      checkKeys(change, replay().rule().keys(), replay().table());
      emit(List.of(), List.of(change), out);
    }
  }
}
