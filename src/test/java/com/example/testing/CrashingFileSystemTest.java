package com.example.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Iceberg's Hadoop catalog works on {@code crash:///abs/path} (no {@code crash.at} rule here): a
 * table created, appended to and read back there is, file for file, the table a plain local
 * catalog finds in {@code /abs/path}, which is how a crash test's next run sees what a killed one
 * left.
 */
class CrashingFileSystemTest {
  private static final Schema SCHEMA = new Schema(
      Types.NestedField.required(1, "user_id", Types.StringType.get()),
      Types.NestedField.optional(2, "email", Types.StringType.get()));
  private static final TableIdentifier USERS = TableIdentifier.of("main", "example", "users");

  @TempDir Path dir;

  @Test
  void hadoopCatalogCreatesAppendsAndReadsThroughTheCrashScheme() throws IOException {
    assertInstanceOf(CrashingFileSystem.class,
        new org.apache.hadoop.fs.Path("crash:///tmp").getFileSystem(new Configuration()));

    Table table = catalog("crash://" + dir).createTable(USERS, SCHEMA, PartitionSpec.unpartitioned());
    assertTrue(table.location().startsWith("crash:"), table.location());
    DataFile file = write(table, List.of(user("user_0001", "a@example.com"), user("user_0002", null)));
    table.newAppend().appendFile(file).commit();

    List<String> expected = List.of("user_0001 a@example.com", "user_0002 null");
    assertEquals(expected, read(catalog("crash://" + dir).loadTable(USERS)));
    assertTrue(Files.isRegularFile(dir.resolve("main/example/users/metadata/v2.metadata.json")), "commit on disk");
    assertTrue(Files.isRegularFile(Path.of(file.path().toString().replaceFirst("^crash:(//)?", ""))),
        "data file on disk: " + file.path());
    assertEquals(expected, read(catalog(dir.toString()).loadTable(USERS)), "the same table, read as local files");
  }

  /** Checksum files kept as file:// keeps them: a file rewritten by one scheme reads back by the other. */
  @Test
  void rewritesReadBackThroughEitherScheme() throws IOException {
    Configuration conf = new Configuration();
    org.apache.hadoop.fs.Path local = new org.apache.hadoop.fs.Path("file://" + dir.resolve("version-hint.text"));
    org.apache.hadoop.fs.Path crash = new org.apache.hadoop.fs.Path("crash://" + dir.resolve("version-hint.text"));
    FileSystem file = local.getFileSystem(conf);
    FileSystem crashing = crash.getFileSystem(conf);
    rewrite(file, local, "1");
    rewrite(crashing, crash, "22");
    assertEquals("22", readString(file, local), "written on crash://, read on file://");
    rewrite(file, local, "333");
    assertEquals("333", readString(crashing, crash), "written on file://, read on crash://");
  }

  private static void rewrite(FileSystem fs, org.apache.hadoop.fs.Path path, String text) throws IOException {
    try (FSDataOutputStream out = fs.create(path, true)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static String readString(FileSystem fs, org.apache.hadoop.fs.Path path) throws IOException {
    try (FSDataInputStream in = fs.open(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static HadoopCatalog catalog(String warehouse) {
    HadoopCatalog catalog = new HadoopCatalog();
    catalog.setConf(new Configuration());
    catalog.initialize("example", Map.of(CatalogProperties.WAREHOUSE_LOCATION, warehouse));
    return catalog;
  }

  private static Record user(String id, String email) {
    Record r = GenericRecord.create(SCHEMA);
    r.setField("user_id", id);
    r.setField("email", email);
    return r;
  }

  private static DataFile write(Table table, List<Record> rows) throws IOException {
    DataWriter<Record> writer = Parquet.writeData(
            table.io().newOutputFile(table.locationProvider().newDataLocation(UUID.randomUUID() + ".parquet")))
        .forTable(table)
        .createWriterFunc(GenericParquetWriter::buildWriter)
        .withSpec(PartitionSpec.unpartitioned())
        .build();
    try (writer) {
      rows.forEach(writer::write);
    }
    return writer.toDataFile();
  }

  private static List<String> read(Table table) throws IOException {
    List<String> rows = new ArrayList<>();
    IcebergFiles.rows(table).forEach(r -> rows.add(r.getField("user_id") + " " + r.getField("email")));
    rows.sort(null);
    return rows;
  }
}
