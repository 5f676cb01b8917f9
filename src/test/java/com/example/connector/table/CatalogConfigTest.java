package com.example.connector.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.ConfigurationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.beam.sdk.util.SerializableUtils;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog the options describe: what is refused, what is defaulted, what is shown. */
class CatalogConfigTest {

  @ParameterizedTest
  @ValueSource(strings = {"gs://bucket/wh", "s3://bucket/wh"})
  void aHadoopCatalogOnAnObjectStoreIsRefusedWithTheFix(String warehouse) {
    ConfigurationException byWarehouse = assertThrows(ConfigurationException.class,
        () -> CatalogConfig.of("example", null, null, null, warehouse, "/tmp/out", Map.of()));
    ConfigurationException byOutputRoot = assertThrows(ConfigurationException.class,
        () -> CatalogConfig.of("example", "hadoop", null, null, null, warehouse, Map.of()));
    for (ConfigurationException e : new ConfigurationException[] {byWarehouse, byOutputRoot}) {
      assertTrue(e.getMessage().startsWith("--warehouse/--outputRoot=" + warehouse + ": "), e.getMessage());
      assertTrue(e.getMessage().contains("--catalogType=rest"), e.getMessage());
    }
  }

  /** Named by its class, the Hadoop catalog was accepted on a bucket, where its commits are not atomic. */
  @ParameterizedTest
  @ValueSource(strings = {"gs://bucket/wh", "s3://bucket/wh"})
  void aHadoopCatalogNamedByItsClassIsRefusedOnAnObjectStoreToo(String warehouse) {
    ConfigurationException e = assertThrows(ConfigurationException.class, () -> CatalogConfig.of("example", null,
        "org.apache.iceberg.hadoop.HadoopCatalog", null, warehouse, "/tmp/out", Map.of()));
    assertTrue(e.getMessage().startsWith("--warehouse/--outputRoot=" + warehouse + ": a Hadoop catalog"), e.getMessage());
  }

  @Test
  void aCatalogServiceOnAnObjectStoreIsAccepted() {
    assertEquals("s3://bucket/wh",
        CatalogConfig.of("example", "rest", null, "https://catalog.example.com", "s3://bucket/wh", "/tmp/out", Map.of())
            .warehouse());
  }

  @ParameterizedTest
  @ValueSource(strings = {"rest", "jdbc"})
  void aCatalogServiceWithoutItsUriIsRefusedWithAnExample(String type) {
    ConfigurationException e = assertThrows(ConfigurationException.class,
        () -> CatalogConfig.of("example", type, null, null, "/tmp/wh", "/tmp/out", Map.of()).withPropertiesFile(null));
    assertTrue(e.getMessage().startsWith("--catalogType=" + type + ": a " + type + " catalog needs its endpoint"),
        e.getMessage());
    assertTrue(e.getMessage().contains("add --catalogUri=" + Map.of("rest", "https://", "jdbc", "jdbc:postgresql://",
        "nessie", "http://").get(type)), e.getMessage());
  }

  @Test
  void aCatalogUriMayComeFromThePropertiesFile(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("catalog.properties"), "uri=https://catalog.example.com\n");
    CatalogConfig.of("example", "rest", null, null, "/tmp/wh", "/tmp/out", Map.of()).withPropertiesFile(file.toString());
  }

  /** Before, Iceberg's bare ClassNotFoundException or "Unknown catalog type" when the run began (exit 1). */
  @ParameterizedTest
  @ValueSource(strings = {"glue", "nessie", "hive"})
  void aCatalogTypeThisBuildDoesNotHoldIsRefusedNamingItsModule(String type) {
    ConfigurationException e = assertThrows(ConfigurationException.class,
        () -> CatalogConfig.of("example", type, null, "http://catalog.example.com", "/tmp/wh", "/tmp/out", Map.of()));
    assertTrue(e.getMessage().startsWith("--catalogType=" + type + ": its catalog ("), e.getMessage());
    assertTrue(e.getMessage().contains("add org.apache.iceberg:iceberg-"), e.getMessage());
  }

  @Test
  void anUnknownCatalogTypeOrClassIsRefusedByName() {
    ConfigurationException type = assertThrows(ConfigurationException.class,
        () -> CatalogConfig.of("example", "postgres", null, null, "/tmp/wh", "/tmp/out", Map.of()));
    assertTrue(type.getMessage().startsWith("--catalogType=postgres: not an Iceberg catalog type; use one of"
        + " [glue, hadoop, hive, jdbc, nessie, rest]"), type.getMessage());
    ConfigurationException impl = assertThrows(ConfigurationException.class,
        () -> CatalogConfig.of("example", null, "com.google.cloud.bigquery.BigLakeCatalog", null, "/tmp/wh", "/tmp/out", Map.of()));
    assertTrue(impl.getMessage().startsWith("--catalogImpl=com.google.cloud.bigquery.BigLakeCatalog: no such class"),
        impl.getMessage());
    assertEquals("/tmp/wh", CatalogConfig.of("example", null, "org.apache.iceberg.jdbc.JdbcCatalog", null, "/tmp/wh",
        "/tmp/out", Map.of()).warehouse());
  }

  @Test
  void aCatalogThatCannotBeLoadedIsNamedInTheError() {
    // Nothing listens on port 9 of loopback: the REST catalog's first call is refused.
    CatalogConfig config = CatalogConfig.of("unreachable", "rest", null, "http://127.0.0.1:9/", "/tmp/wh", "/tmp/out",
        Map.of("token", "tok-789"));
    IllegalStateException e = assertThrows(IllegalStateException.class, config::load);
    assertTrue(e.getMessage().startsWith("Iceberg catalog unreachable{"), e.getMessage());
    assertTrue(e.getMessage().contains("uri=http://127.0.0.1:9/") && e.getMessage().contains("could not be loaded"),
        e.getMessage());
    assertFalse(e.getMessage().contains("tok-789"), e.getMessage());
  }

  /**
   * The properties file is the only place a FileIO can be named (no option does), but for a gs://
   * warehouse the default GCSFileIO replaced the file's io-impl, silently.
   */
  @Test
  void aFileIoNamedInThePropertiesFileIsUsedOnAGcsWarehouse(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("catalog.properties"), "io-impl=org.apache.iceberg.inmemory.InMemoryFileIO\n");
    org.apache.iceberg.catalog.Catalog catalog = CatalogConfig.of("fileio", "jdbc", null,
        "jdbc:sqlite:" + dir.resolve("catalog.db"), "gs://bucket/wh", "/tmp/out", Map.of())
        .withPropertiesFile(file.toString()).load();
    org.apache.iceberg.Table table = catalog.buildTable(org.apache.iceberg.catalog.TableIdentifier.of("s", "t"),
        new org.apache.iceberg.Schema(org.apache.iceberg.types.Types.NestedField.required(1, "id",
            org.apache.iceberg.types.Types.LongType.get()))).create();
    assertEquals("org.apache.iceberg.inmemory.InMemoryFileIO", table.io().getClass().getName());
  }

  /** The run's header line names the FileIO the catalog loads with: it showed GCSFileIO here. */
  @Test
  void theCatalogAsPrintedNamesThePropertiesFilesFileIo(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("catalog.properties"),
        "io-impl=org.apache.iceberg.inmemory.InMemoryFileIO\njdbc.password=pw-123456\n");
    String shown = CatalogConfig.of("fileio", "jdbc", null, "jdbc:sqlite:" + dir.resolve("catalog.db"),
        "gs://bucket/wh", "/tmp/out", Map.of()).withPropertiesFile(file.toString()).toString();
    assertTrue(shown.contains("io-impl=org.apache.iceberg.inmemory.InMemoryFileIO"), shown);
    assertFalse(shown.contains("GCSFileIO") || shown.contains("pw-123456") || shown.contains("jdbc.password"), shown);
  }

  /**
   * Only the file's path travels with the job: a worker without the file failed its first writer's
   * setup telling to "give a readable Java properties file", which the launcher had read fine.
   */
  @Test
  void aPropertiesFileMissingWhereTheCatalogLoadsSaysItMustBeOnEveryWorker(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("catalog.properties"), "jdbc.password=pw-123456\n");
    CatalogConfig launcher = CatalogConfig.of("worker", "jdbc", null, "jdbc:sqlite:" + dir.resolve("catalog.db"),
        "/tmp/wh", "/tmp/out", Map.of()).withPropertiesFile(file.toString());
    CatalogConfig worker = SerializableUtils.clone(launcher);
    Files.delete(file);
    ConfigurationException e = assertThrows(ConfigurationException.class, worker::load);
    assertTrue(e.getMessage().startsWith("--catalogPropertiesFile=" + file + ": cannot be read here (NoSuchFileException)"),
        e.getMessage());
    assertTrue(e.getMessage().contains("at this path on every worker"), e.getMessage());
  }

  /**
   * The properties file is where a credential goes, and is never printed: a catalog that fails to
   * load with a JDBC URL holding a password there (no PostgreSQL driver on this class path) names
   * the file, but neither its message nor any cause's quotes the URL's password.
   */
  @Test
  void aCatalogThatCannotBeLoadedNeverQuotesThePropertiesFile(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("catalog.properties"),
        "uri=jdbc:postgresql://db.example:5432/iceberg?user=admin&password=hunter2\njdbc.password=pw-123456\n");
    CatalogConfig config = CatalogConfig.of("failing", "jdbc", null, null, "/tmp/wh", "/tmp/out", Map.of())
        .withPropertiesFile(file.toString());
    IllegalStateException e = assertThrows(IllegalStateException.class, config::load);
    assertTrue(e.getMessage().contains("could not be loaded") && e.getMessage().contains(file.toString()), e.getMessage());
    for (Throwable t = e; t != null; t = t.getCause()) {
      assertFalse(String.valueOf(t.getMessage()).contains("hunter2"), t.toString());
      assertFalse(String.valueOf(t.getMessage()).contains("pw-123456"), t.toString());
    }
  }

  @Test
  void toStringMasksSecretsButShowsWhereTheCatalogIs() {
    CatalogConfig config = CatalogConfig.of("example", "jdbc", null, "jdbc:postgresql://db.example.com/iceberg",
        "/data/wh", "/tmp/out", Map.of("jdbc.user", "ingest", "jdbc.password", "pw-123", "token", "tok-456"));
    String shown = config.toString();
    assertFalse(shown.contains("pw-123"), shown);
    assertFalse(shown.contains("tok-456"), shown);
    assertTrue(shown.contains("jdbc.password=****"), shown);
    assertTrue(shown.contains("token=****"), shown);
    assertTrue(shown.contains("uri=jdbc:postgresql://db.example.com/iceberg"), shown);
    assertTrue(shown.contains("warehouse=/data/wh"), shown);
    assertTrue(shown.contains("jdbc.user=ingest"), shown);
  }

  @Test
  void aRelativeOutputRootBecomesAnAbsoluteWarehouse() {
    CatalogConfig config = CatalogConfig.of("example", null, null, null, null, "out/../tables", Map.of());
    assertEquals(System.getProperty("user.dir") + "/tables", config.warehouse());
    assertTrue(config.isHadoop());
  }

  @Test
  void aGcsWarehouseOfACatalogServiceReadsWithGcsFileIoUnlessGivenAnother() {
    String rest = CatalogConfig.of("example", "rest", null, "https://catalog.example.com", "gs://bucket/wh",
        "/tmp/out", Map.of()).toString();
    assertTrue(rest.contains("io-impl=org.apache.iceberg.gcp.gcs.GCSFileIO"), rest);

    String given = CatalogConfig.of("example", "rest", null, "https://catalog.example.com", "gs://bucket/wh",
        "/tmp/out", Map.of("io-impl", "org.apache.iceberg.io.ResolvingFileIO")).toString();
    assertTrue(given.contains("io-impl=org.apache.iceberg.io.ResolvingFileIO"), given);
    assertFalse(given.contains("GCSFileIO"), given);

    String local = CatalogConfig.of("example", "jdbc", null, "jdbc:sqlite:/tmp/c.db", "/data/wh", "/tmp/out", Map.of())
        .toString();
    assertFalse(local.contains("io-impl"), local);
  }

  /** Options are printed and travel with the job: a credential in one is refused, and not shown. */
  @ParameterizedTest
  @ValueSource(strings = {
    "jdbc:postgresql://admin:hunter2@db.example:5432/iceberg",
    "jdbc:postgresql://db.example:5432/iceberg?sslmode=require&password=hunter2",
    "jdbc:sqlserver://db.example:1433;user=admin;password=hunter2",
    "jdbc:mysql://db.example/iceberg?user=admin&pwd=hunter2",
    "jdbc:oracle:thin:admin/hunter2@db.example:1521/ice",
    "https://admin:p@hunter2@catalog.example.com/api",
    "https://catalog.example.com/api?token=hunter2",
  })
  void aUriCarryingACredentialIsRefusedWithoutShowingIt(String uri) {
    ConfigurationException e = assertThrows(ConfigurationException.class,
        () -> CatalogConfig.of("example", "jdbc", null, uri, "/tmp/wh", "/tmp/wh", Map.of()));
    assertTrue(e.getMessage().startsWith("--catalogUri holds a credential"), e.getMessage());
    assertTrue(e.getMessage().contains("--catalogPropertiesFile") && e.getMessage().contains("jdbc.password="),
        e.getMessage());
    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
  }

  @Test
  void aWarehouseCarryingACredentialIsRefused() {
    ConfigurationException e = assertThrows(ConfigurationException.class, () -> CatalogConfig.of("example", "rest",
        null, "https://catalog.example.com", "s3://AKIA123:hunter2@bucket/wh", "/tmp/out", Map.of()));
    assertTrue(e.getMessage().startsWith("--warehouse holds a credential"), e.getMessage());
    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"jdbc:postgresql://db.example:5432/iceberg?sslmode=require", "https://catalog.example.com:8181/api",
    "jdbc:sqlite:/tmp/token-cache/catalog.db", "thrift://metastore.example:9083"})
  void aUriWithoutACredentialIsAccepted(String uri) {
    CatalogConfig.of("example", "jdbc", null, uri, "/tmp/wh", "/tmp/wh", Map.of());
  }
}
