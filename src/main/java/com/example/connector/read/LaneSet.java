package com.example.connector.read;

import java.io.Serializable;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.DelegateCoder;
import org.apache.beam.sdk.coders.ListCoder;
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

  /** The ranges as Beam's list of {@code rangeCoder}'s encodings. */
  public static <R> Coder<LaneSet<R>> coder(Coder<R> rangeCoder) {
    return DelegateCoder.of(ListCoder.of(rangeCoder), LaneSet::ranges, LaneSet::new);
  }
}
