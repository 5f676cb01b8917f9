package com.example.connector.sink;

import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.beam.sdk.io.FileSystem;
import org.apache.beam.sdk.io.FileSystemRegistrar;
import org.apache.beam.sdk.io.fs.CreateOptions;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * A test-only Beam {@link FileSystem} for the {@code mem://} scheme, standing in for {@code gs://}:
 * {@code mem://a/b} is stored at {@code <root>/a/b} of a directory only this class knows. Code that
 * bypassed Beam's FileSystems (java.io.File, java.nio on the URI) could not find these files.
 */
public final class MemFileSystem extends FileSystem<MemFileSystem.Id> {
  static volatile Path root;
  static final AtomicInteger CALLS = new AtomicInteger();

  /** Registered through META-INF/services (test resources). */
  public static final class Registrar implements FileSystemRegistrar {
    @Override
    public Iterable<FileSystem<?>> fromOptions(PipelineOptions options) {
      return List.of(new MemFileSystem());
    }
  }

  /** mem://PATH; PATH ends with '/' for a directory. */
  static final class Id implements ResourceId {
    final String path;

    Id(String path) {
      this.path = path;
    }

    Path local() {
      return root.resolve(path.replaceAll("^/+", ""));
    }

    @Override
    public ResourceId resolve(String other, ResolveOptions options) {
      String base = path.endsWith("/") ? path : path + "/";
      boolean dir = options == ResolveOptions.StandardResolveOptions.RESOLVE_DIRECTORY;
      return new Id(base + other + (dir && !other.endsWith("/") ? "/" : ""));
    }

    @Override
    public ResourceId getCurrentDirectory() {
      return isDirectory() ? this : new Id(path.substring(0, path.lastIndexOf('/') + 1));
    }

    @Override
    public String getScheme() {
      return "mem";
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
      return "mem://" + path;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Id && ((Id) o).path.equals(path);
    }

    @Override
    public int hashCode() {
      return path.hashCode();
    }
  }

  private static String strip(String spec) {
    if (!spec.startsWith("mem://")) {
      throw new IllegalArgumentException("not a mem:// path: " + spec);
    }
    return spec.substring("mem://".length());
  }

  @Override
  protected List<MatchResult> match(List<String> specs) throws IOException {
    CALLS.incrementAndGet();
    List<MatchResult> results = new ArrayList<>();
    for (String spec : specs) {
      String path = strip(spec);
      // Beam glob: '*' within one directory, '**' across directories.
      Pattern glob = globToRegex(path);
      List<MatchResult.Metadata> found = new ArrayList<>();
      if (Files.exists(root)) {
        try (Stream<Path> files = Files.walk(root)) {
          for (Path f : files.filter(Files::isRegularFile).toList()) {
            String rel = root.relativize(f).toString().replace('\\', '/');
            if (glob.matcher(rel).matches()) {
              found.add(MatchResult.Metadata.builder()
                  .setResourceId(new Id(rel)).setSizeBytes(Files.size(f)).setIsReadSeekEfficient(true)
                  .setLastModifiedMillis(Files.getLastModifiedTime(f).toMillis()).build());
            }
          }
        }
      }
      results.add(found.isEmpty() && !path.contains("*")
          ? MatchResult.create(MatchResult.Status.NOT_FOUND, new NoSuchFileException(spec))
          : MatchResult.create(MatchResult.Status.OK, found));
    }
    return results;
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
    CALLS.incrementAndGet();
    Files.createDirectories(id.local().getParent());
    return Channels.newChannel(Files.newOutputStream(id.local()));
  }

  @Override
  protected ReadableByteChannel open(Id id) throws IOException {
    CALLS.incrementAndGet();
    return Files.newByteChannel(id.local());
  }

  @Override
  protected void copy(List<Id> from, List<Id> to) throws IOException {
    CALLS.incrementAndGet();
    for (int i = 0; i < from.size(); i++) {
      Files.createDirectories(to.get(i).local().getParent());
      Files.copy(from.get(i).local(), to.get(i).local(), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @Override
  protected void rename(List<Id> from, List<Id> to, MoveOptions... options) throws IOException {
    CALLS.incrementAndGet();
    for (int i = 0; i < from.size(); i++) {
      Files.createDirectories(to.get(i).local().getParent());
      Files.move(from.get(i).local(), to.get(i).local(), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @Override
  protected void delete(Collection<Id> ids) throws IOException {
    CALLS.incrementAndGet();
    for (Id id : ids) {
      Files.deleteIfExists(id.local());
    }
  }

  @Override
  protected Id matchNewResource(String spec, boolean isDirectory) {
    String path = strip(spec);
    return new Id(isDirectory && !path.endsWith("/") ? path + "/" : path);
  }

  @Override
  protected String getScheme() {
    return "mem";
  }

}
