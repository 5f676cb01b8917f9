package com.example.connector.sink;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions.StandardMoveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;

/** The few file operations the sink needs, on Beam {@link FileSystems} so any scheme works. */
final class BeamFiles {
  private BeamFiles() {}

  static ResourceId resource(String path) {
    return FileSystems.matchNewResource(path, path.endsWith("/"));
  }

  /**
   * The files matching a glob; none only when the file system says nothing matches. Any other
   * answer (an error status, an exception) fails: read as "no files", it would plan a table as new,
   * reset its cursors and delete its files at the commit.
   */
  static List<ResourceId> list(String glob) {
    try {
      return found(glob, FileSystems.match(glob, EmptyMatchTreatment.ALLOW));
    } catch (IOException e) {
      throw cannotList(glob, e);
    }
  }

  static boolean exists(String path) {
    return !list(path).isEmpty();
  }

  /** Those of {@code paths} that do not exist. */
  static List<String> missing(List<String> paths) {
    if (paths.isEmpty()) {
      return List.of();
    }
    List<MatchResult> results;
    try {
      results = FileSystems.match(paths);
    } catch (IOException e) {
      throw cannotList(paths.get(0) + (paths.size() > 1 ? " and " + (paths.size() - 1) + " more" : ""), e);
    }
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < paths.size(); i++) {
      if (found(paths.get(i), results.get(i)).isEmpty()) {
        missing.add(paths.get(i));
      }
    }
    return missing;
  }

  /** What one match found: its files if OK, none if NOT_FOUND; any other status is an error. */
  private static List<ResourceId> found(String spec, MatchResult result) {
    if (result.status() == MatchResult.Status.NOT_FOUND) {
      return List.of();
    }
    try {
      List<MatchResult.Metadata> metadata = result.metadata(); // throws the error of a failed match
      if (result.status() != MatchResult.Status.OK) {
        throw new IOException("the file system answered " + result.status());
      }
      return metadata.stream().map(MatchResult.Metadata::resourceId).toList();
    } catch (IOException e) {
      throw cannotList(spec, e);
    }
  }

  private static UncheckedIOException cannotList(String spec, IOException e) {
    return new UncheckedIOException("cannot list " + spec + " (" + e.getMessage() + "); a storage error is"
        + " never taken for 'no files', so the run stops here: retry it once the storage answers", e);
  }

  static String read(String path) {
    try (InputStream in = Channels.newInputStream(FileSystems.open(resource(path)))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
  }

  /** Writes the file whole: to a temporary name, then renamed over the target. */
  static void writeAtomically(String path, String content) {
    String temp = path + ".tmp";
    try (OutputStream out = Channels.newOutputStream(FileSystems.create(resource(temp), "application/json"))) {
      out.write(content.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + temp, e);
    }
    rename(List.of(resource(temp)), List.of(resource(path)));
  }

  static void rename(List<ResourceId> from, List<ResourceId> to) {
    try {
      FileSystems.rename(from, to, StandardMoveOptions.IGNORE_MISSING_FILES);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move " + from + " to " + to, e);
    }
  }

  /** Deletes a directory if the file system has directories and it is empty; else nothing. */
  static void deleteEmptyDirectory(String path) {
    try {
      FileSystems.delete(List.of(resource(path)), StandardMoveOptions.IGNORE_MISSING_FILES);
    } catch (IOException e) {
      // Not empty, or an object store without directories. Tidying only: nothing reads it back.
    }
  }

  static void delete(List<ResourceId> files) {
    try {
      FileSystems.delete(files, StandardMoveOptions.IGNORE_MISSING_FILES);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + files, e);
    }
  }
}
