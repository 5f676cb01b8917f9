package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.source.ExampleSource;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A second products snapshot run while products whose keys sort first are inserted (the
 * acceptance case: page ranges removed 228 unchanged products from the SCD type 1 table and closed
 * 159 SCD type 2 versions). On the DirectRunner and on Flink embedded, whatever the timing: the
 * SCD type 1 table keeps every product that existed throughout, the SCD type 2 table closes no
 * version of one, and the run's change feed holds each product once.
 */
class SnapshotUnderInsertsTest {
  /** 106 pages of 20. */
  private static final int PRODUCTS = 2120;
  /** At most this many inserts, two before each products page request of the second run. */
  private static final int INSERTS = 400;

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"DirectRunner", "FlinkRunner"})
  void aRunWhileProductsAreInsertedDeletesNoProductAndClosesNoVersion(String runner) {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0).rows("products", PRODUCTS).start()) {
      IngestHarness h = new IngestHarness(dir, source.baseUrl().toString());
      Path spec = h.spec("products.json",
          "\"source_table\": \"products\"",
          "\"source_table\": \"products\", \"destination_table\": \"products_history\","
              + " \"table_configuration\": {\"scd_type\": \"SCD_TYPE_2\"}");
      String[] runnerArgs = runner.equals("FlinkRunner")
          ? new String[] {"--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2"}
          : new String[] {"--runner=DirectRunner"};
      h.runOk(spec, runnerArgs);
      Inserts inserts = new Inserts(source);
      source.setRequestListener(inserts);
      String runId = h.runOk(spec, runnerArgs).plan().runId();
      source.setRequestListener(null);

      Set<String> seeded = IntStream.range(0, PRODUCTS).mapToObj(i -> String.format("prod_%04d", i))
          .collect(Collectors.toCollection(TreeSet::new));
      assertTrue(inserts.keys().size() > 0, "products were inserted while the run read");
      List<String> scd1 = ids(h.rows("products"));
      assertEquals(Set.of(), minus(seeded, scd1), "products the run deleted");
      assertEquals(Set.of(), minus(minus(Set.copyOf(scd1), seeded), inserts.keys()), "products that never existed");
      assertEquals(scd1.size(), Set.copyOf(scd1).size(), "one row per product");
      Set<String> closed = h.rows("products_history").stream()
          .filter(v -> v.get("__END_AT") != null)
          .map(v -> v.get("product_id").toString())
          .collect(Collectors.toCollection(TreeSet::new));
      assertEquals(Set.of(), closed, "versions closed (no product changed or left)");
      List<String> history = ids(h.rows("products_history"));
      assertEquals(Set.of(), minus(seeded, history), "products without a version");
      assertEquals(history.size(), Set.copyOf(history).size(), "one version per product");
      List<String> changes = h.column("products", "product_id", runId);
      assertEquals(changes.size(), Set.copyOf(changes).size(), "each product once in the run's change feed");
    }
  }

  private static List<String> ids(List<GenericRecord> rows) {
    return rows.stream().map(r -> r.get("product_id").toString()).toList();
  }

  private static Set<String> minus(Set<String> all, java.util.Collection<String> removed) {
    Set<String> left = new TreeSet<>(all);
    left.removeAll(removed);
    return left;
  }

  /** Before each products page request: two products sorting right after prod_0000, up to INSERTS. */
  private static final class Inserts implements ExampleSource.RequestListener {
    private final ExampleSource source;
    private final Set<String> keys = new HashSet<>();

    Inserts(ExampleSource source) {
      this.source = source;
    }

    @Override
    public synchronized void onRequest(String method, String path, String query) {
      for (int i = 0; i < 2 && path.equals("/tables/products/records") && keys.size() < INSERTS; i++) {
        String key = String.format("prod_0000_%05d", keys.size());
        source.upsert("products", Map.of("product_id", key, "name", "new", "price", 1.0, "category", "books"));
        keys.add(key);
      }
    }

    synchronized Set<String> keys() {
      return Set.copyOf(keys);
    }
  }
}
