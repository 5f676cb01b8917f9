package com.example.connector.table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Hadoop's local file system ({@code file://}, checksum files included), setting a file's
 * permissions in this process instead of forking {@code chmod}.
 *
 * <p>Without Hadoop's native library (this connector does not ship it), {@link RawLocalFileSystem}
 * runs {@code chmod} in a child process for every file and directory it creates: about 170 forks
 * of a JVM of several hundred megabytes in one run of the five example tables (data files,
 * manifests, metadata, their checksum files). {@link CatalogConfig} makes it {@code file://}'s
 * file system for its catalogs ({@code fs.file.impl}); everything else is Hadoop's.
 */
public final class InProcessLocalFileSystem extends LocalFileSystem {
  /** Hadoop instantiates a file system class by this constructor. */
  public InProcessLocalFileSystem() {
    super(new Raw());
  }

  /** The raw local file system, with {@link #setPermission} through {@link Files}. */
  private static final class Raw extends RawLocalFileSystem {
    @Override
    public void setPermission(Path p, FsPermission permission) throws IOException {
      Files.setPosixFilePermissions(pathToFile(p).toPath(), posix(permission.toShort()));
    }
  }

  /** The nine permission bits of {@code mode} (owner, group, others; read, write, execute). */
  static Set<PosixFilePermission> posix(short mode) {
    Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] highestBitFirst = PosixFilePermission.values(); // OWNER_READ ... OTHERS_EXECUTE
    for (int i = 0; i < highestBitFirst.length; i++) {
      if ((mode & (1 << (highestBitFirst.length - 1 - i))) != 0) {
        permissions.add(highestBitFirst[i]);
      }
    }
    return permissions;
  }
}
