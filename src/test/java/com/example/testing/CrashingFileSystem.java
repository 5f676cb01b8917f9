package com.example.testing;

import java.io.File;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * A test-only Hadoop {@link org.apache.hadoop.fs.FileSystem} for the {@code crash} scheme, which
 * kills its JVM at a chosen point of the file I/O, as {@code kill -9} would: {@code
 * crash:///abs/path} is the local file {@code /abs/path} (real disk, so the next process sees what
 * the killed one left). Iceberg's {@code HadoopFileIO} and {@code HadoopTableOperations} find it
 * by scheme: it is registered in {@code META-INF/services/org.apache.hadoop.fs.FileSystem} (test
 * resources), which Hadoop's {@code FileSystem.getFileSystemClass} reads by {@link #getScheme()}.
 *
 * <p>It is Hadoop's local file system under another name, checksum files ({@code .NAME.crc})
 * included, as {@code file://} writes them: a run on {@code crash://} and one on the same
 * directory as a plain path read each other's files. Under the checksum layer, a {@link
 * RawLocalFileSystem} whose URI is {@code crash:///} does the I/O: it qualifies every path it
 * returns with its URI and reads the local file of any path it accepts, so the URI is all the
 * mapping there is. Checksum files are neither kill points nor traced.
 *
 * <p>Iceberg keeps absolute paths: a table created on {@code crash://} writes its data files and
 * manifests there whatever warehouse path a later run is given, so a table must be created on
 * {@code crash://} for them to be kill points; its commits go through the catalog's warehouse.
 *
 * <p>The system property {@code crash.at} holds one rule, {@code OP:SUBSTRING:N} or {@code
 * write:SUBSTRING:N:BYTES}; the N-th (from 1, counted over all threads) operation OP whose path
 * contains SUBSTRING halts the JVM with {@code Runtime.halt(137)} (no shutdown hooks), after
 * printing {@code crash.at: halting at OP crash:///abs/path...} to stderr:
 *
 * <ul>
 *   <li>{@code create:S:N} - before the N-th matching create (the file is not created);
 *   <li>{@code write:S:N:B} - the N-th matching create is cut after B bytes have reached the
 *       file, then the JVM halts (a half-written file); if it is closed shorter, nothing happens
 *       but a {@code crash.at: the write rule did not fire} line;
 *   <li>{@code rename:S:N} - before the N-th rename whose destination matches;
 *   <li>{@code delete:S:N} - before deleting the N-th matching file or directory.
 * </ul>
 *
 * <p>Without the property it never halts. With {@code -Dcrash.trace=true} it prints every
 * operation ({@code crash.fs: OP PATH}, and for each created file {@code crash.fs: closed PATH: B
 * bytes in W writes}) to stderr, to find kill points.
 */
public final class CrashingFileSystem extends LocalFileSystem {
  private static final String SCHEME = "crash";
  private static final String PROPERTY = "crash.at";
  private static final int EXIT_CODE = 137;
  private static final URI ROOT = URI.create(SCHEME + ":///");
  private static final Rule RULE = Rule.parse(System.getProperty(PROPERTY));
  private static final boolean TRACE = Boolean.getBoolean("crash.trace");

  /** Hadoop's ServiceLoader instantiates it by this constructor. */
  public CrashingFileSystem() {
    super(new Raw());
  }

  @Override
  public String getScheme() {
    return SCHEME;
  }

  /** The raw local file system at {@code crash:///}, halting where the rule says. */
  private static final class Raw extends RawLocalFileSystem {
    @Override
    public URI getUri() {
      return ROOT;
    }

    @Override
    public String toString() {
      return "CrashingFileSystem(" + ROOT + ")";
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
      if (!isChecksumFile(f)) {
        trace("open " + name(f));
      }
      return super.open(f, bufferSize);
    }

    /** Every create and createNonRecursive opens its file here, before any byte is written. */
    @Override
    protected OutputStream createOutputStreamWithMode(Path f, boolean append, FsPermission permission)
        throws IOException {
      if (append || isChecksumFile(f)) {
        return super.createOutputStreamWithMode(f, append, permission); // Iceberg never appends
      }
      String name = name(f);
      trace("create " + name);
      crashIf("create", name, "");
      OutputStream out = super.createOutputStreamWithMode(f, false, permission);
      if (RULE != null && RULE.hits("write", name)) {
        return new CutStream(out, name, RULE.bytes());
      }
      return TRACE ? new TracedStream(out, name) : out;
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
      if (!isChecksumFile(dst)) {
        String to = name(dst);
        trace("rename " + name(src) + " -> " + to);
        crashIf("rename", to, " (from " + name(src) + ")");
      }
      return super.rename(src, dst);
    }

    @Override
    public boolean delete(Path p, boolean recursive) throws IOException {
      if (!isChecksumFile(p)) {
        String name = name(p);
        trace("delete " + name);
        crashIf("delete", name, "");
      }
      return super.delete(p, recursive);
    }

    /** {@code crash:///abs/path}, however the caller spelled it ({@code crash:/abs/path}, relative). */
    private String name(Path p) {
      File local = pathToFile(p);
      return SCHEME + "://" + local.getAbsolutePath();
    }
  }

  /** One crash rule: OP:SUBSTRING:N[:BYTES]. */
  record Rule(String op, String substring, int nth, long bytes, AtomicInteger seen) {
    static final List<String> OPS = List.of("create", "write", "rename", "delete");

    static Rule parse(String spec) {
      if (spec == null || spec.isBlank()) {
        return null;
      }
      String[] p = spec.split(":", -1);
      boolean write = p[0].equals("write");
      int n = p.length - (write ? 2 : 1); // index of N; the substring may contain ':'
      if (!OPS.contains(p[0]) || n < 2) {
        throw new IllegalArgumentException(
            PROPERTY + " is OP:SUBSTRING:N (OP one of create, rename, delete) or write:SUBSTRING:N:BYTES, not " + spec);
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

  private static void crashIf(String op, String path, String detail) {
    if (RULE != null && RULE.hits(op, path)) {
      halt(op + " " + path + detail);
    }
  }

  private static void halt(String what) {
    System.err.println("crash.at: halting at " + what);
    System.err.flush();
    Runtime.getRuntime().halt(EXIT_CODE);
  }

  /** Traces how a created file was written: {@code crash.fs: closed PATH: B bytes in W writes}. */
  private static final class TracedStream extends FilterOutputStream {
    private final String name;
    private long bytes;
    private int writes;

    TracedStream(OutputStream out, String name) {
      super(out);
      this.name = name;
    }

    @Override
    public synchronized void write(int b) throws IOException {
      out.write(b);
      bytes++;
      writes++;
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      bytes += len;
      writes++;
    }

    @Override
    public synchronized void close() throws IOException {
      trace("closed " + name + ": " + bytes + " bytes in " + writes + " writes");
      out.close();
    }
  }

  /** Passes the first {@code limit} bytes through to the file, then halts the JVM. */
  private static final class CutStream extends FilterOutputStream {
    private final String name;
    private final long limit;
    private long written;

    CutStream(OutputStream out, String name, long limit) {
      super(out);
      this.name = name;
      this.limit = limit;
    }

    @Override
    public synchronized void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      long room = limit - written;
      if (len < room) {
        out.write(b, off, len);
        written += len;
        return;
      }
      out.write(b, off, (int) room);
      out.flush();
      written += room;
      halt("write " + name + " after " + written + " bytes");
    }

    @Override
    public synchronized void close() throws IOException {
      System.err.println("crash.at: the write rule did not fire: " + name + " was closed after "
          + written + " bytes");
      out.close();
    }
  }
}
