package com.example.connector.sink;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.io.FileSystem;
import org.apache.beam.sdk.io.FileSystemRegistrar;
import org.apache.beam.sdk.io.fs.CreateOptions;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * A test-only Beam {@link FileSystem} for the {@code crash} scheme, which kills its JVM at a chosen
 * point of the file I/O, as {@code kill -9} would: {@code crash:///abs/path} is the local file
 * {@code /abs/path} (real disk, so the next process sees what the killed one left).
 *
 * <p>The system property {@code crash.at} holds one rule, {@code OP:SUBSTRING:N} or {@code
 * write:SUBSTRING:N:BYTES}; the N-th (from 1, counted over all threads) operation OP whose path
 * contains SUBSTRING halts the JVM with {@code Runtime.halt(137)} (no shutdown hooks), after
 * printing {@code crash.at: halting at OP PATH...} to stderr:
 *
 * <ul>
 *   <li>{@code create:S:N} - before the N-th matching create (the file is not created);
 *   <li>{@code write:S:N:B} - the N-th matching create is cut after B bytes have been written to
 *       it, then the JVM halts (a half-written file); if it is closed shorter, nothing happens but
 *       a {@code crash.at: the write rule did not fire} line;
 *   <li>{@code rename:S:N} / {@code copy:S:N} - before moving/copying the N-th file whose
 *       destination matches (earlier files of the same call were moved);
 *   <li>{@code delete:S:N} - before deleting the N-th matching file or directory.
 * </ul>
 *
 * <p>Without the property it never halts. With {@code -Dcrash.trace=true} it prints every
 * operation ({@code crash.fs: OP PATH}, and for each created file {@code crash.fs: closed PATH: B
 * bytes in W writes}) to stderr, to find kill points.
 */
public final class CrashFileSystem extends DiskBackedFileSystem {
  static final String PROPERTY = "crash.at";
  static final int EXIT_CODE = 137;
  private static final Rule RULE = Rule.parse(System.getProperty(PROPERTY));
  private static final boolean TRACE = Boolean.getBoolean("crash.trace");

  /** Registered through META-INF/services (test resources). */
  public static final class Registrar implements FileSystemRegistrar {
    @Override
    public Iterable<FileSystem<?>> fromOptions(PipelineOptions options) {
      return List.of(new CrashFileSystem());
    }
  }

  CrashFileSystem() {
    super("crash");
  }

  @Override
  protected Path local(String path) {
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("crash:// paths are absolute (crash:///abs/path): " + path);
    }
    return Path.of(path);
  }

  @Override
  protected String path(Path file) {
    return file.toString();
  }

  /** One crash rule: OP:SUBSTRING:N[:BYTES]. */
  record Rule(String op, String substring, int nth, long bytes, AtomicInteger seen) {
    static final List<String> OPS = List.of("create", "write", "rename", "copy", "delete");

    static Rule parse(String spec) {
      if (spec == null || spec.isBlank()) {
        return null;
      }
      String[] p = spec.split(":", -1);
      boolean write = p[0].equals("write");
      int n = p.length - (write ? 2 : 1); // index of N; the substring may contain ':'
      if (!OPS.contains(p[0]) || n < 2) {
        throw new IllegalArgumentException(
            PROPERTY + " is OP:SUBSTRING:N (OP one of create, rename, copy, delete) or write:SUBSTRING:N:BYTES, not " + spec);
      }
      String substring = String.join(":", List.of(p).subList(1, n));
      return new Rule(p[0], substring, Integer.parseInt(p[n]), write ? Long.parseLong(p[n + 1]) : -1,
          new AtomicInteger());
    }

    /** Whether this is the N-th matching operation (true for exactly one call). */
    boolean hits(String op, String path) {
      return this.op.equals(op) && path.contains(substring) && seen.incrementAndGet() == nth;
    }
  }

  private static void trace(String line) {
    if (TRACE) {
      System.err.println("crash.fs: " + line);
    }
  }

  private static void crashIf(String op, Id id, String detail) {
    if (RULE != null && RULE.hits(op, id.toString())) {
      halt(op + " " + id + detail);
    }
  }

  static void halt(String what) {
    System.err.println("crash.at: halting at " + what);
    System.err.flush();
    Runtime.getRuntime().halt(EXIT_CODE);
  }

  @Override
  protected List<MatchResult> match(List<String> specs) throws IOException {
    if (TRACE) {
      specs.forEach(s -> trace("match " + s));
    }
    return super.match(specs);
  }

  @Override
  protected WritableByteChannel create(Id id, CreateOptions options) throws IOException {
    trace("create " + id);
    crashIf("create", id, "");
    WritableByteChannel channel = super.create(id, options);
    if (RULE != null && RULE.hits("write", id.toString())) {
      return new CutChannel(channel, id, RULE.bytes());
    }
    return TRACE ? new TracedChannel(channel, id) : channel;
  }

  @Override
  protected ReadableByteChannel open(Id id) throws IOException {
    trace("open " + id);
    return super.open(id);
  }

  @Override
  protected void copyOne(Id from, Id to) throws IOException {
    trace("copy " + from + " -> " + to);
    crashIf("copy", to, " (from " + from + ")");
    super.copyOne(from, to);
  }

  @Override
  protected void renameOne(Id from, Id to) throws IOException {
    trace("rename " + from + " -> " + to);
    crashIf("rename", to, " (from " + from + ")");
    super.renameOne(from, to);
  }

  @Override
  protected void deleteOne(Id id) throws IOException {
    trace("delete " + id);
    crashIf("delete", id, "");
    super.deleteOne(id);
  }

  /** Traces how a created file was written: {@code crash.fs: closed PATH: B bytes in W writes}. */
  private static final class TracedChannel implements WritableByteChannel {
    private final WritableByteChannel out;
    private final Id id;
    private long bytes;
    private int writes;

    TracedChannel(WritableByteChannel out, Id id) {
      this.out = out;
      this.id = id;
    }

    @Override
    public synchronized int write(ByteBuffer src) throws IOException {
      int n = out.write(src);
      bytes += n;
      writes++;
      return n;
    }

    @Override
    public boolean isOpen() {
      return out.isOpen();
    }

    @Override
    public synchronized void close() throws IOException {
      trace("closed " + id + ": " + bytes + " bytes in " + writes + " writes");
      out.close();
    }
  }

  /** Passes the first {@code limit} bytes through, then halts the JVM. */
  private static final class CutChannel implements WritableByteChannel {
    private final WritableByteChannel out;
    private final Id id;
    private final long limit;
    private long written;

    CutChannel(WritableByteChannel out, Id id, long limit) {
      this.out = out;
      this.id = id;
      this.limit = limit;
    }

    @Override
    public synchronized int write(ByteBuffer src) throws IOException {
      long room = limit - written;
      if (src.remaining() < room) {
        int n = out.write(src);
        written += n;
        return n;
      }
      ByteBuffer head = src.slice();
      head.limit((int) room);
      while (head.hasRemaining()) {
        written += out.write(head);
      }
      halt("write " + id + " after " + written + " bytes");
      throw new AssertionError("unreachable");
    }

    @Override
    public boolean isOpen() {
      return out.isOpen();
    }

    @Override
    public synchronized void close() throws IOException {
      System.err.println("crash.at: the write rule did not fire: " + id + " was closed after "
          + written + " bytes");
      out.close();
    }
  }
}
