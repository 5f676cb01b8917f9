package com.example.connector.sink;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.beam.sdk.io.FileSystem;
import org.apache.beam.sdk.io.fs.CreateOptions;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;

/**
 * A test-only Beam {@link FileSystem} for a made-up scheme whose files are ordinary local files:
 * {@code SCHEME://PATH} is stored at {@link #local(String) local(PATH)}. Subclasses choose the
 * scheme and the mapping ({@link MemFileSystem}: a private temporary directory; {@link
 * CrashFileSystem}: the absolute path itself) and may hook the operations (they are not final).
 *
 * <p>Supports what Beam's FileIO/ParquetIO and the Committer use: match with Beam globs ({@code *}
 * within a directory, {@code **} across directories; a path without a glob also matches an
 * existing directory, as on Beam's local file system), create, open, copy, rename (move options
 * left to FileSystems, as LocalFileSystem does), delete (a directory only when empty) and
 * matchNewResource.
 */
abstract class DiskBackedFileSystem extends FileSystem<DiskBackedFileSystem.Id> {
  private final String scheme;

  DiskBackedFileSystem(String scheme) {
    this.scheme = scheme;
  }

  /** The local file of PATH (a resource's spec without {@code SCHEME://}). */
  protected abstract Path local(String path);

  /** The PATH whose {@link #local(String) local file} is {@code file}. */
  protected abstract String path(Path file);

  /** Called once per operation (match, create, open, copy, rename, delete), before it. */
  protected void called(String op) {}

  /** SCHEME://PATH; PATH ends with '/' for a directory. */
  static final class Id implements ResourceId {
    final String scheme;
    final String path;

    Id(String scheme, String path) {
      this.scheme = scheme;
      this.path = path;
    }

    @Override
    public ResourceId resolve(String other, ResolveOptions options) {
      String base = path.endsWith("/") ? path : path + "/";
      boolean dir = options == ResolveOptions.StandardResolveOptions.RESOLVE_DIRECTORY;
      return new Id(scheme, base + other + (dir && !other.endsWith("/") ? "/" : ""));
    }

    @Override
    public ResourceId getCurrentDirectory() {
      return isDirectory() ? this : new Id(scheme, path.substring(0, path.lastIndexOf('/') + 1));
    }

    @Override
    public String getScheme() {
      return scheme;
    }

    @Override
    public String getFilename() {
      String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
      return p.substring(p.lastIndexOf('/') + 1);
    }

    @Override
    public boolean isDirectory() {
      return path.endsWith("/");
    }

    @Override
    public String toString() {
      return scheme + "://" + path;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Id && ((Id) o).scheme.equals(scheme) && ((Id) o).path.equals(path);
    }

    @Override
    public int hashCode() {
      return path.hashCode();
    }
  }

  final Path local(Id id) {
    return local(id.path);
  }

  private String strip(String spec) {
    String prefix = scheme + "://";
    if (!spec.startsWith(prefix)) {
      throw new IllegalArgumentException("not a " + prefix + " path: " + spec);
    }
    return spec.substring(prefix.length());
  }

  @Override
  protected List<MatchResult> match(List<String> specs) throws IOException {
    called("match");
    List<MatchResult> results = new ArrayList<>();
    for (String spec : specs) {
      String path = strip(spec);
      results.add(path.contains("*") ? matchGlob(path) : matchOne(spec, path));
    }
    return results;
  }

  private MatchResult matchOne(String spec, String path) throws IOException {
    Path file = local(path);
    if (Files.isRegularFile(file)) {
      return MatchResult.create(MatchResult.Status.OK, List.of(metadata(new Id(scheme, path), file)));
    }
    if (Files.isDirectory(file)) {
      Id dir = new Id(scheme, path.endsWith("/") ? path : path + "/");
      return MatchResult.create(MatchResult.Status.OK, List.of(metadata(dir, file)));
    }
    return MatchResult.create(MatchResult.Status.NOT_FOUND, new NoSuchFileException(spec));
  }

  /** Walks the directory before the first glob and keeps the regular files whose PATH matches. */
  private MatchResult matchGlob(String path) throws IOException {
    Pattern glob = globToRegex(path);
    String fixed = path.substring(0, path.lastIndexOf('/', path.indexOf('*')) + 1);
    Path start = local(fixed);
    List<MatchResult.Metadata> found = new ArrayList<>();
    if (Files.isDirectory(start)) {
      // Tolerates files that other threads delete while this walks.
      Files.walkFileTree(start, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
          String p = path(f);
          if (attrs.isRegularFile() && glob.matcher(p).matches()) {
            try {
              found.add(metadata(new Id(scheme, p), f));
            } catch (NoSuchFileException gone) {
              // deleted meanwhile
            }
          }
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
          if (e instanceof NoSuchFileException) {
            return FileVisitResult.CONTINUE;
          }
          throw e;
        }
      });
    }
    return MatchResult.create(MatchResult.Status.OK, found);
  }

  private static MatchResult.Metadata metadata(Id id, Path file) throws IOException {
    return MatchResult.Metadata.builder()
        .setResourceId(id)
        .setSizeBytes(id.isDirectory() ? 0 : Files.size(file))
        .setIsReadSeekEfficient(true)
        .setLastModifiedMillis(Files.getLastModifiedTime(file).toMillis())
        .build();
  }

  private static Pattern globToRegex(String glob) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
        b.append(".*");
        i++;
      } else if (c == '*') {
        b.append("[^/]*");
      } else {
        b.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(b.toString());
  }

  @Override
  protected WritableByteChannel create(Id id, CreateOptions options) throws IOException {
    called("create");
    Path file = local(id);
    Files.createDirectories(file.getParent());
    return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE);
  }

  @Override
  protected ReadableByteChannel open(Id id) throws IOException {
    called("open");
    return Files.newByteChannel(local(id));
  }

  @Override
  protected void copy(List<Id> from, List<Id> to) throws IOException {
    called("copy");
    for (int i = 0; i < from.size(); i++) {
      copyOne(from.get(i), to.get(i));
    }
  }

  protected void copyOne(Id from, Id to) throws IOException {
    Files.createDirectories(local(to).getParent());
    Files.copy(local(from), local(to), StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Like Beam's LocalFileSystem: with move options (IGNORE_MISSING_FILES, SKIP_IF_DESTINATION_EXISTS)
   * this throws UnsupportedOperationException, and FileSystems.rename then filters the files itself
   * (matching sources and destinations) and calls this again without options.
   */
  @Override
  protected void rename(List<Id> from, List<Id> to, MoveOptions... options) throws IOException {
    if (options.length > 0) {
      throw new UnsupportedOperationException("move options are left to FileSystems.rename");
    }
    called("rename");
    for (int i = 0; i < from.size(); i++) {
      renameOne(from.get(i), to.get(i));
    }
  }

  protected void renameOne(Id from, Id to) throws IOException {
    Files.createDirectories(local(to).getParent());
    Files.move(local(from), local(to), StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  protected void delete(Collection<Id> ids) throws IOException {
    called("delete");
    for (Id id : ids) {
      deleteOne(id);
    }
  }

  /** Deletes a file, or a directory if it is empty (else DirectoryNotEmptyException). */
  protected void deleteOne(Id id) throws IOException {
    Files.deleteIfExists(local(id));
  }

  @Override
  protected Id matchNewResource(String spec, boolean isDirectory) {
    String path = strip(spec);
    return new Id(scheme, isDirectory && !path.endsWith("/") ? path + "/" : path);
  }

  @Override
  protected String getScheme() {
    return scheme;
  }
}
