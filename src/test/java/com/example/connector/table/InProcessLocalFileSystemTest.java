package com.example.connector.table;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code file://} without a forked {@code chmod}: the same modes, set in this process. */
class InProcessLocalFileSystemTest {

  @Test
  void modesMapToThePermissionsChmodWouldSet() {
    assertEquals(PosixFilePermissions.fromString("rw-r--r--"), InProcessLocalFileSystem.posix((short) 0644));
    assertEquals(PosixFilePermissions.fromString("rwxr-xr-x"), InProcessLocalFileSystem.posix((short) 0755));
    assertEquals(PosixFilePermissions.fromString("rwx------"), InProcessLocalFileSystem.posix((short) 0700));
    assertEquals(PosixFilePermissions.fromString("-w---x--x"), InProcessLocalFileSystem.posix((short) 0211));
    assertEquals(PosixFilePermissions.fromString("---------"), InProcessLocalFileSystem.posix((short) 0));
  }

  @Test
  void aHadoopCatalogWritesItsFilesThroughItWithHadoopsModes(@TempDir Path warehouse) throws Exception {
    HadoopCatalog catalog = (HadoopCatalog) CatalogConfig.hadoop(warehouse.toString()).load();
    assertEquals(InProcessLocalFileSystem.class.getName(), catalog.getConf().get("fs.file.impl"));

    catalog.createTable(TableIdentifier.of("main", "t"), new Schema(Types.NestedField.required(1, "id", Types.LongType.get())));

    try (Stream<Path> all = Files.walk(warehouse.resolve("main/t"))) {
      for (Path p : all.toList()) {
        // Hadoop's defaults, as its chmod set them: files 0644, directories 0755 (umask 022).
        String expected = Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--";
        assertEquals(expected, PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
      }
    }
  }
}
