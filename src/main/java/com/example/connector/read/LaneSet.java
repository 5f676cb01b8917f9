package com.example.connector.read;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The restriction of a read of several ranges at once, each read by a lane of its own ({@link
 * Lanes}): a cursor feed's sub-ranges ({@code OffsetRange}s of cursor microseconds), a snapshot's
 * key ranges. Tracked by {@link LaneSetTracker}.
 */
public record LaneSet<R>(List<R> ranges) implements Serializable {

  public LaneSet {
    ranges = List.copyOf(ranges);
  }

  /**
   * A claim in one lane: a position of its range, or none, which ends the range (its reader read
   * past its end, or to the source's last record).
   */
  public record Claim<P>(int lane, @Nullable P position) {
    static <P> Claim<P> end(int lane) {
      return new Claim<>(lane, null);
    }
  }

  public static <R> Coder<R> coder(org.apache.beam.sdk.coders.Coder<R> rangeCoder) {
    return new Coder<>(rangeCoder);
  }

  /** The ranges as a count, then each with the range coder. */
  public static final class Coder<R> extends CustomCoder<LaneSet<R>> {
    private final org.apache.beam.sdk.coders.Coder<R> rangeCoder;

    private Coder(org.apache.beam.sdk.coders.Coder<R> rangeCoder) {
      this.rangeCoder = rangeCoder;
    }

    @Override
    public void encode(LaneSet<R> value, OutputStream out) throws IOException {
      VarIntCoder.of().encode(value.ranges().size(), out);
      for (R range : value.ranges()) {
        rangeCoder.encode(range, out);
      }
    }

    @Override
    public LaneSet<R> decode(InputStream in) throws IOException {
      int n = VarIntCoder.of().decode(in);
      List<R> ranges = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        ranges.add(rangeCoder.decode(in));
      }
      return new LaneSet<>(ranges);
    }

    @Override
    public void verifyDeterministic() throws NonDeterministicException {
      rangeCoder.verifyDeterministic();
    }
  }
}
