package com.example.connector.table;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;

/** A committed row by where it is: its data file and position in it. What a position delete names. */
public record RowPosition(String file, long position) implements Serializable, Comparable<RowPosition> {
  @Override
  public int compareTo(RowPosition other) {
    int byFile = file.compareTo(other.file);
    return byFile != 0 ? byFile : Long.compare(position, other.position);
  }

  /**
   * A position as its file's path and a variable-length number: one is encoded for every row a run
   * deletes, and Java serialization (Beam's {@code SerializableCoder}) took ten times as long (8 µs
   * a position, warm, C1) for twice the bytes.
   */
  public static final class Coder extends AtomicCoder<RowPosition> {
    private static final Coder INSTANCE = new Coder();
    private static final StringUtf8Coder FILE = StringUtf8Coder.of();
    private static final VarLongCoder POSITION = VarLongCoder.of();

    private Coder() {}

    public static Coder of() {
      return INSTANCE;
    }

    @Override
    public void encode(RowPosition value, OutputStream out) throws IOException {
      FILE.encode(value.file(), out);
      POSITION.encode(value.position(), out);
    }

    @Override
    public RowPosition decode(InputStream in) throws IOException {
      return new RowPosition(FILE.decode(in), POSITION.decode(in));
    }
  }
}
