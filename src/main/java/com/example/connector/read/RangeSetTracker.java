package com.example.connector.read;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Tracks a {@link RangeSet}: for each range, as Beam's {@code OffsetRangeTracker} does for one,
 * the last position claimed in it, claims increasing within a range and failing at or past its
 * end. Ranges are claimed independently (each by its own reader, concurrently): a failed claim
 * ends only its range.
 *
 * <p>Splitting: a checkpoint ({@code fraction} 0) keeps in the primary what each range claimed
 * and gives the residual the rest of every range. It is refused (null, as the contract allows)
 * until the tracker is {@code checkpointAfter} old: a checkpoint cuts every range at its last
 * claim, so each reader's call in flight is made for nothing and made again by the residual, and
 * the DirectRunner asks for one a second. Its reader checkpoints itself once that time has
 * passed ({@link FeedRangeReadFn}), between calls, where it costs none. Any other fraction
 * gives away ranges not yet started (the later half of them), or else cuts the range with the
 * most left at that fraction of what it has left. Both keep each range's claimed part in the
 * primary, so a reader whose range was cut stops at its next claim. Thread-safe: readers claim
 * and the runner splits at the same time.
 */
public final class RangeSetTracker extends RestrictionTracker<RangeSet, RangeSet.Position>
    implements RestrictionTracker.HasProgress {
  private static final long NONE = Long.MIN_VALUE;

  private final long[] from;
  private final long[] to;
  private final long[] lastAttempted;
  private final LongSupplier nanoClock;
  private final long checkpointsFrom;

  /** A tracker of {@code restriction} that accepts checkpoints once it is {@code checkpointAfter} old. */
  public RangeSetTracker(RangeSet restriction, Duration checkpointAfter) {
    this(restriction, checkpointAfter, System::nanoTime);
  }

  RangeSetTracker(RangeSet restriction, Duration checkpointAfter, LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    this.checkpointsFrom = nanoClock.getAsLong() + checkpointAfter.toNanos();
    int n = restriction.ranges().size();
    from = new long[n];
    to = new long[n];
    lastAttempted = new long[n];
    for (int i = 0; i < n; i++) {
      from[i] = restriction.ranges().get(i).getFrom();
      to[i] = restriction.ranges().get(i).getTo();
      lastAttempted[i] = NONE;
    }
  }

  @Override
  public synchronized boolean tryClaim(RangeSet.Position position) {
    int i = position.range();
    long cursor = position.cursor();
    if (lastAttempted[i] != NONE && cursor <= lastAttempted[i]) {
      throw new IllegalArgumentException("range " + i + ": claims must increase, " + cursor + " after " + lastAttempted[i]);
    }
    if (cursor < from[i]) {
      throw new IllegalArgumentException("range " + i + ": " + cursor + " is below its start " + from[i]);
    }
    lastAttempted[i] = cursor;
    return cursor < to[i];
  }

  @Override
  public synchronized RangeSet currentRestriction() {
    List<OffsetRange> ranges = new ArrayList<>(from.length);
    for (int i = 0; i < from.length; i++) {
      ranges.add(new OffsetRange(from[i], to[i]));
    }
    return new RangeSet(ranges);
  }

  /** Range {@code i} as it is now (its end moves down when the runner splits). */
  synchronized OffsetRange range(int i) {
    return new OffsetRange(from[i], to[i]);
  }

  @Override
  public synchronized @Nullable SplitResult<RangeSet> trySplit(double fraction) {
    List<OffsetRange> residual = new ArrayList<>();
    if (fraction == 0) {
      if (nanoClock.getAsLong() - checkpointsFrom < 0) {
        return null;
      }
      for (int i = 0; i < from.length; i++) {
        long next = nextUnclaimed(i);
        if (next < to[i]) {
          residual.add(new OffsetRange(next, to[i]));
          to[i] = next;
        }
      }
    } else {
      List<Integer> unstarted = new ArrayList<>();
      for (int i = 0; i < from.length; i++) {
        if (lastAttempted[i] == NONE && from[i] < to[i]) {
          unstarted.add(i);
        }
      }
      if (!unstarted.isEmpty()) {
        for (int k = unstarted.size() / 2; k < unstarted.size(); k++) {
          int i = unstarted.get(k);
          residual.add(new OffsetRange(from[i], to[i]));
          to[i] = from[i];
        }
      } else {
        int widest = -1;
        for (int i = 0; i < from.length; i++) {
          if (widest < 0 || to[i] - nextUnclaimed(i) > to[widest] - nextUnclaimed(widest)) {
            widest = i;
          }
        }
        long next = widest < 0 ? 0 : nextUnclaimed(widest);
        long cut = widest < 0 ? 0 : next + Math.max(1, (long) ((to[widest] - next) * fraction));
        if (widest >= 0 && cut < to[widest]) {
          residual.add(new OffsetRange(cut, to[widest]));
          to[widest] = cut;
        }
      }
    }
    return residual.isEmpty() ? null : SplitResult.of(currentRestriction(), new RangeSet(residual));
  }

  private long nextUnclaimed(int i) {
    return lastAttempted[i] == NONE ? from[i] : Math.max(from[i], lastAttempted[i] + 1);
  }

  @Override
  public synchronized void checkDone() throws IllegalStateException {
    for (int i = 0; i < from.length; i++) {
      if (from[i] < to[i] && (lastAttempted[i] == NONE || lastAttempted[i] < to[i] - 1)) {
        throw new IllegalStateException("range " + i + " [" + from[i] + ", " + to[i] + ") was not read to its end: last claim "
            + (lastAttempted[i] == NONE ? "none" : Long.toString(lastAttempted[i])));
      }
    }
  }

  @Override
  public IsBounded isBounded() {
    return IsBounded.BOUNDED;
  }

  @Override
  public synchronized Progress getProgress() {
    double done = 0;
    double left = 0;
    for (int i = 0; i < from.length; i++) {
      long next = Math.min(nextUnclaimed(i), to[i]);
      done += next - from[i];
      left += to[i] - next;
    }
    return Progress.from(done, left);
  }
}
