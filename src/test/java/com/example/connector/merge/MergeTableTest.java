package com.example.connector.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.example.connector.catalog.ScdType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The merge as a Beam transform, on the DirectRunner and on Flink embedded, with one bucket larger
 * than the 10,000 rows after which Beam's CoGroupByKey re-reads a group (which Flink's batch groups
 * refuse): the bucket must be read once.
 */
class MergeTableTest {
  private static final Schema FEED = TestUsers.FEED;
  private static final MergeRule SCD1 = new MergeRule(ScdType.SCD_TYPE_1, List.of("user_id"), "updated_at", false);
  private static final Schema TABLE = SCD1.tableSchema(FEED);

  @ParameterizedTest
  @ValueSource(strings = {"DirectRunner", "FlinkRunner"})
  void oneLargeBucketIsReadOnce(String runner) {
    List<GenericRecord> committed = new ArrayList<>();
    for (int i = 0; i < 12_000; i++) {
      committed.add(committed(i, "e" + i, 100));
    }
    List<GenericRecord> changes = new ArrayList<>();
    Map<String, String> expected = new HashMap<>();
    for (int i = 0; i < 12_000; i++) {
      expected.put("u" + i, "e" + i);
    }
    for (int i = 0; i < 8_000; i++) { // updated
      changes.add(TestUsers.change("u" + i, "new" + i, 200));
      expected.put("u" + i, "new" + i);
    }
    for (int i = 8_000; i < 9_000; i++) { // deleted
      changes.add(TestUsers.change("u" + i, null, 200));
      expected.remove("u" + i);
    }
    for (int i = 12_000; i < 12_500; i++) { // inserted
      changes.add(TestUsers.change("u" + i, "e" + i, 200));
      expected.put("u" + i, "e" + i);
    }
    changes.add(TestUsers.change("u9000", "stale", 50)); // older than the committed row: no effect

    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.fromArgs(
        "--runner=" + runner, "--flinkMaster=[local]", "--parallelism=2").withoutStrictParsing().create());
    PCollection<GenericRecord> merged =
        PCollectionTuple.of(MergeTable.COMMITTED, pipeline.apply("Committed", Create.of(committed).withCoder(AvroCoder.of(TABLE))))
            .and(MergeTable.CHANGES, pipeline.apply("Changes", Create.of(changes).withCoder(AvroCoder.of(FEED))))
            .apply(new MergeTable(SCD1, FEED, null, "users", false, false, 1_000_000));
    PAssert.that(merged).satisfies(rows -> {
      Map<String, String> actual = new HashMap<>();
      for (GenericRecord r : rows) {
        actual.merge(r.get("user_id").toString(), String.valueOf(r.get("email")), (a, b) -> a + "," + b);
      }
      assertEquals(expected, actual);
      return null;
    });
    pipeline.run().waitUntilFinish();
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
