import java.util.Arrays;
import org.apache.spark.sql.SparkSession;

/**
 * Runs SQL statements with Spark in local mode against the connector's Hadoop catalog, as the
 * catalog {@code example}: {@code SparkSql WAREHOUSE 'SQL' ['SQL' ...]}, each statement's result
 * printed as a table.
 */
public final class SparkSql {
  private SparkSql() {}

  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: SparkSql WAREHOUSE 'SQL' ['SQL' ...], e.g. SparkSql output"
          + " 'SELECT count(*) FROM example.main.example.users'");
      System.exit(2);
    }
    SparkSession spark = SparkSession.builder().master("local[2]").appName("example-connector tables")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.catalog.example", "org.apache.iceberg.spark.SparkCatalog")
        .config("spark.sql.catalog.example.type", "hadoop")
        .config("spark.sql.catalog.example.warehouse", args[0])
        .getOrCreate();
    try {
      for (String sql : Arrays.asList(args).subList(1, args.length)) {
        System.out.println("spark-sql> " + sql);
        spark.sql(sql).show(20, false);
      }
    } finally {
      spark.stop();
    }
  }
}
