package com.example.connector.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.ScdType;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The merge as a Beam transform, on the DirectRunner and on Flink embedded: in many buckets, in one
 * bucket larger than the 10,000 rows after which Beam's CoGroupByKey re-reads a group (which
 * Flink's batch groups refuse: the bucket must be read once), and with a changed-key filter so
 * small that every committed row is sent through the merge (its false positives must not change
 * the result). Each run checks that its assertion ran.
 */
class MergeTableTest {
  private static final Schema FEED = TestUsers.FEED;
  private static final MergeRule SCD1 = new MergeRule(ScdType.SCD_TYPE_1, List.of("user_id"), "updated_at", false);
  private static final Schema TABLE = SCD1.tableSchema(FEED);

  static Stream<Arguments> layouts() {
    return Stream.of(
        Arguments.of("DirectRunner", 1_000L, ChangedKeys.DEFAULT_BITS),
        Arguments.of("FlinkRunner", 1_000L, ChangedKeys.DEFAULT_BITS),
        Arguments.of("FlinkRunner", 1_000_000L, ChangedKeys.DEFAULT_BITS),
        Arguments.of("DirectRunner", 1_000L, 64));
  }

  /**
   * Users u0..u11999 committed with email e{i} at 100. The run updates u0..u7999 to new{i} at 200,
   * deletes u8000..u8999 at 200, inserts u12000..u12499 as e{i} at 200, and reads a stale
   * change of u9000 at 50 (older than its committed row: no effect).
   */
  @ParameterizedTest
  @MethodSource("layouts")
  void mergesEveryKeyWhateverTheBuckets(String runner, long rowsPerBucket, int changedKeyBits) {
    List<GenericRecord> committed = new ArrayList<>();
    for (int i = 0; i < 12_000; i++) {
      committed.add(committed(i, "e" + i, 100));
    }
    List<GenericRecord> changes = new ArrayList<>();
    for (int i = 0; i < 8_000; i++) {
      changes.add(TestUsers.change("u" + i, "new" + i, 200));
    }
    for (int i = 8_000; i < 9_000; i++) {
      changes.add(TestUsers.change("u" + i, null, 200));
    }
    for (int i = 12_000; i < 12_500; i++) {
      changes.add(TestUsers.change("u" + i, "e" + i, 200));
    }
    changes.add(TestUsers.change("u9000", "stale", 50));

    Pipeline pipeline = pipeline(runner);
    PCollection<GenericRecord> merged = merge(pipeline, committed, changes,
        new MergeTable(SCD1, FEED, null, "users", false, false, rowsPerBucket, changedKeyBits));
    PAssert.that(merged).satisfies(rows -> {
      Map<String, String> actual = new HashMap<>();
      for (GenericRecord r : rows) {
        actual.merge(r.get("user_id").toString(), String.valueOf(r.get("email")), (a, b) -> a + "," + b);
      }
      assertEquals(11_500, actual.size(), "8,000 updated + 3,000 untouched + 500 inserted, once each");
      for (int i = 0; i < 12_500; i++) {
        assertEquals(expectedEmail(i), actual.get("u" + i), "u" + i);
      }
      return null;
    });
    PipelineResult result = pipeline.run();
    result.waitUntilFinish();

    assertEquals(1, counter(result, PAssert.class.getName(), PAssert.SUCCESS_COUNTER), "the assertion ran and held");
    assertEquals(11_500, counter(result, "users", "table_rows"));
  }

  /** User i's email after the run, from the scenario above (null: no row). */
  private static String expectedEmail(int i) {
    if (i < 8_000) {
      return "new" + i;
    }
    if (i < 9_000) {
      return null;
    }
    return "e" + i;
  }

  /** An override of the key by a nullable column: a change without a value fails the table. */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aNullPrimaryKeyValueFailsTheTable(boolean tombstone) {
    MergeRule byEmail = new MergeRule(ScdType.SCD_TYPE_1, List.of("email"), "updated_at", false);
    GenericRecord noEmail = TestUsers.change("u2", null, 10); // a tombstone: no email
    if (!tombstone) {
      noEmail.put(RecordSchemas.OPERATION, "upsert");
      noEmail.put(RecordSchemas.IS_DELETED, false);
    }
    Pipeline pipeline = pipeline("DirectRunner");
    merge(pipeline, List.of(), List.of(TestUsers.change("u1", "a@x", 10), noEmail),
        new MergeTable(byEmail, FEED, null, "main.example.users", true, false));
    Pipeline.PipelineExecutionException e = assertThrows(Pipeline.PipelineExecutionException.class, pipeline::run);
    String message = e.getCause().getMessage();
    assertTrue(message.startsWith("table main.example.users: primary key column 'email' is null in "
        + (tombstone ? "a delete (tombstone)" : "a record")), message);
    assertTrue(message.contains("primary_keys"), message);
  }

  /**
   * The filter of 200,000 changed keys holds every one of them, claims few others, and is no
   * larger than the filter of one; a partial (what runners shuffle per bundle) is the size of its
   * keys' hashes until the filter is smaller, and survives its coder.
   */
  @Test
  void aChangedKeyFilterHasNoFalseNegativesAndAFixedSize() throws Exception {
    ChangedKeys.Collect collect = new ChangedKeys.Collect(List.of("user_id"), ChangedKeys.DEFAULT_BITS);
    ChangedKeys.Partial one = collect.addInput(collect.createAccumulator(), TestUsers.change("u0", "a", 1));
    ChangedKeys.Partial many = collect.createAccumulator();
    for (int i = 0; i < 200_000; i++) {
      collect.addInput(many, TestUsers.change("u" + i, "a", 1));
    }
    assertEquals(4 + 1 + 4 + 8, encoded(one).length, "one key: a header and one hash");
    assertEquals(4 + 1 + 4 + ChangedKeys.DEFAULT_BITS / 8, encoded(many).length, "at most the filter's bits");

    ChangedKeys.Partial decoded = new ChangedKeys.PartialCoder().decode(new ByteArrayInputStream(encoded(many)));
    ChangedKeys filter = collect.extractOutput(collect.mergeAccumulators(List.of(decoded, one)));
    for (int i = 0; i < 200_000; i++) {
      assertTrue(filter.mightContain("[\"u" + i + "\"]"), "u" + i);
    }
    int falsePositives = 0;
    for (int i = 200_000; i < 300_000; i++) {
      falsePositives += filter.mightContain("[\"u" + i + "\"]") ? 1 : 0;
    }
    assertTrue(falsePositives < 100, "under 0.1 % of 100,000 unchanged keys: " + falsePositives);
    assertEquals(serializedSize(collect.extractOutput(one)), serializedSize(filter), "the filter does not grow with the keys");
  }

  private static byte[] encoded(ChangedKeys.Partial partial) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new ChangedKeys.PartialCoder().encode(partial, bytes);
    return bytes.toByteArray();
  }

  private static int serializedSize(Object o) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    return bytes.size();
  }

  private static Pipeline pipeline(String runner) {
    return Pipeline.create(PipelineOptionsFactory.fromArgs(
        "--runner=" + runner, "--flinkMaster=[local]", "--parallelism=2").withoutStrictParsing().create());
  }

  private static PCollection<GenericRecord> merge(Pipeline pipeline, List<GenericRecord> committed,
      List<GenericRecord> changes, MergeTable merge) {
    return PCollectionTuple
        .of(MergeTable.COMMITTED, pipeline.apply("Committed", Create.of(committed).withCoder(AvroCoder.of(TABLE))))
        .and(MergeTable.CHANGES, pipeline.apply("Changes", Create.of(changes).withCoder(AvroCoder.of(FEED))))
        .apply(merge);
  }

  /** A counter's value over the run (attempted: Flink reports no committed metrics). */
  private static long counter(PipelineResult result, String namespace, String name) {
    long sum = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(namespace, name)).build()).getCounters()) {
      sum += c.getAttempted();
    }
    return sum;
  }

  /** User {@code i}'s row in the committed table. */
  private static GenericRecord committed(int i, String email, long updatedAt) {
    GenericRecord r = new GenericData.Record(TABLE);
    r.put("user_id", "u" + i);
    r.put("email", email);
    r.put("updated_at", updatedAt);
    return r;
  }
}
