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

  /** The files matching a glob; none when nothing matches. */
  static List<ResourceId> list(String glob) {
    try {
      MatchResult result = FileSystems.match(glob, EmptyMatchTreatment.ALLOW);
      List<ResourceId> files = new ArrayList<>();
      if (result.status() == MatchResult.Status.OK) {
        result.metadata().forEach(m -> files.add(m.resourceId()));
      }
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + glob, e);
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
    try {
      List<MatchResult> results = FileSystems.match(paths);
      List<String> missing = new ArrayList<>();
      for (int i = 0; i < paths.size(); i++) {
        if (results.get(i).status() != MatchResult.Status.OK || results.get(i).metadata().isEmpty()) {
          missing.add(paths.get(i));
        }
      }
      return missing;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot check " + paths.size() + " staged files", e);
    }
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
      // not empty, or an object store without directories: nothing to clean up
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
