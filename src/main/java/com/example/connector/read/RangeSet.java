package com.example.connector.read;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.range.OffsetRange;

/**
 * The restriction of a read of several sub-ranges of one feed at once: their cursor ranges, in
 * microseconds, each {@code [from, to)}, read side by side ({@link RangeSetTracker}).
 */
public record RangeSet(List<OffsetRange> ranges) implements Serializable {

  public RangeSet {
    ranges = List.copyOf(ranges);
  }

  /** A claim in one of the ranges: a cursor value, standing for every record that has it. */
  public record Position(int range, long cursor) {}

  /** The ranges' bounds, as a count and then two longs a range. */
  public static final class Coder extends AtomicCoder<RangeSet> {
    private static final Coder INSTANCE = new Coder();

    public static Coder of() {
      return INSTANCE;
    }

    @Override
    public void encode(RangeSet value, OutputStream out) throws IOException {
      VarIntCoder.of().encode(value.ranges().size(), out);
      for (OffsetRange r : value.ranges()) {
        VarLongCoder.of().encode(r.getFrom(), out);
        VarLongCoder.of().encode(r.getTo(), out);
      }
    }

    @Override
    public RangeSet decode(InputStream in) throws IOException {
      int n = VarIntCoder.of().decode(in);
      List<OffsetRange> ranges = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        ranges.add(new OffsetRange(VarLongCoder.of().decode(in), VarLongCoder.of().decode(in)));
      }
      return new RangeSet(ranges);
    }
  }
}
