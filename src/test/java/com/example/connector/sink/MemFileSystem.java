package com.example.connector.sink;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.io.FileSystem;
import org.apache.beam.sdk.io.FileSystemRegistrar;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * A test-only Beam {@link FileSystem} for the {@code mem://} scheme, standing in for an object store
 * such as {@code gs://}: {@code mem://a/b} is stored at {@code <root>/a/b} of a directory only this
 * class knows. Code that bypassed Beam's FileSystems (java.io.File, java.nio on the URI) could not
 * find these files.
 *
 * <p>It behaves as an object store where the sink's code depends on it:
 *
 * <ul>
 *   <li>A rename is a copy of each object, then a delete of its source, as {@code gs://} does: not
 *       atomic, both copies visible in between. {@link #interruptAfterCopy} stops a rename there,
 *       as a process killed at that point would.
 *   <li>A listing can fail ({@link #failListingsOf}): the match is answered {@code Status.ERROR}
 *       with an IOException, as Beam's {@code gs://} file system answers a failed object listing
 *       or lookup (a match that throws instead is simply propagated).
 *   <li>Listings show every object written before them (read-after-write, as {@code gs://} lists
 *       today). The commit protocol relies on that (see {@link Committer}), so there is no
 *       eventually consistent mode.
 * </ul>
 *
 * <p>Beam creates the instance, so tests set these through static fields and {@link #reset()}.
 */
public final class MemFileSystem extends DiskBackedFileSystem {
  static volatile Path root;
  static final AtomicInteger CALLS = new AtomicInteger();
  /** A match of a spec containing this fails; null: none. */
  static volatile String failListingsOf;
  /** Renames stop right after the object copy numbered this; 0: never. */
  private static volatile int interruptAt;
  /** Objects copied by renames since {@link #interruptAfterCopy} or {@link #reset()}. */
  private static final AtomicInteger RENAME_COPIES = new AtomicInteger();

  /** Registered through META-INF/services (test resources). */
  public static final class Registrar implements FileSystemRegistrar {
    @Override
    public Iterable<FileSystem<?>> fromOptions(PipelineOptions options) {
      return List.of(new MemFileSystem());
    }
  }

  MemFileSystem() {
    super("mem");
  }

  /** No faults. */
  static void reset() {
    failListingsOf = null;
    interruptAfterCopy(0);
  }

  /** From now on, renames stop after the {@code n}-th object they copy (from 1), before deleting it. */
  static void interruptAfterCopy(int n) {
    RENAME_COPIES.set(0);
    interruptAt = n;
  }

  @Override
  protected Path local(String path) {
    return root.resolve(path.replaceAll("^/+", ""));
  }

  @Override
  protected String path(Path file) {
    return root.relativize(file).toString().replace('\\', '/');
  }

  @Override
  protected void called(String op) {
    CALLS.incrementAndGet();
  }

  @Override
  protected List<MatchResult> match(List<String> specs) throws IOException {
    List<MatchResult> results = new ArrayList<>(super.match(specs));
    String failing = failListingsOf;
    for (int i = 0; failing != null && i < specs.size(); i++) {
      if (specs.get(i).contains(failing)) {
        results.set(i, MatchResult.create(MatchResult.Status.ERROR,
            new IOException("503 Service Unavailable listing " + specs.get(i))));
      }
    }
    return results;
  }

  /** Copy, then delete the source: an object store has no rename. */
  @Override
  protected void renameOne(Id from, Id to) throws IOException {
    copyOne(from, to);
    if (RENAME_COPIES.incrementAndGet() == interruptAt) {
      throw new IOException("interrupted after copying " + from + " to " + to + ", before deleting it");
    }
    deleteOne(from);
  }
}
