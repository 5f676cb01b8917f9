package com.example.connector.read;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Tracks a {@link LaneSet}: each range with Beam's own tracker for it ({@code OffsetRangeTracker}
 * for cursor microseconds, {@link ReadSnapshotPagesFn.PageKeysTracker} for keys), claimed
 * independently, each by its own lane, concurrently. A lane whose reader reads past its range's
 * end claims {@link LaneSet.Claim#end}, which ends that range alone: a failed claim would end the
 * whole element (Beam allows no output after one) while the other lanes go on.
 *
 * <p>Splitting: a checkpoint ({@code fraction} 0) checkpoints every range that has not ended, as
 * its own tracker does (keeping what it claimed; the rest goes to the residual). It is refused
 * (null, as the contract allows) until the tracker is {@code checkpointAfter} old: a checkpoint
 * cuts every range at its last claim, so each reader's call in flight is made for nothing and
 * made again by the residual, and the DirectRunner asks for one a second. Its reader checkpoints
 * itself once that time has passed ({@link Lanes}), between calls, where it costs none. Any other
 * fraction gives away ranges not yet started (the later half of them), or else splits the range
 * with the most work left, by its own tracker, at that fraction of its remainder. Both keep each
 * range's claimed part in the primary, so a reader whose range was cut stops at its next claim.
 * Thread-safe: lanes claim and the runner splits at the same time.
 */
public final class LaneSetTracker<R, P> extends RestrictionTracker<LaneSet<R>, LaneSet.Claim<P>>
    implements RestrictionTracker.HasProgress {
  private final List<RestrictionTracker<R, P>> ranges = new ArrayList<>();
  private final boolean[] started;
  private final boolean[] ended;
  private final LongSupplier nanoClock;
  private final long checkpointsFrom;

  /**
   * A tracker of {@code restriction}, each range tracked by {@code newTracker} (which must report
   * progress), that accepts checkpoints once it is {@code checkpointAfter} old.
   */
  public LaneSetTracker(
      LaneSet<R> restriction, Function<R, ? extends RestrictionTracker<R, P>> newTracker, Duration checkpointAfter) {
    this(restriction, newTracker, checkpointAfter, System::nanoTime);
  }

  LaneSetTracker(LaneSet<R> restriction, Function<R, ? extends RestrictionTracker<R, P>> newTracker,
      Duration checkpointAfter, LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    this.checkpointsFrom = nanoClock.getAsLong() + checkpointAfter.toNanos();
    for (R range : restriction.ranges()) {
      RestrictionTracker<R, P> tracker = newTracker.apply(range);
      if (!(tracker instanceof HasProgress)) {
        throw new IllegalArgumentException("a lane's tracker must report progress: " + tracker.getClass());
      }
      ranges.add(tracker);
    }
    started = new boolean[ranges.size()];
    ended = new boolean[ranges.size()];
  }

  @Override
  public synchronized boolean tryClaim(LaneSet.Claim<P> claim) {
    int i = claim.lane();
    if (ended[i]) {
      throw new IllegalArgumentException("range " + i + " has ended; it was claimed again: " + claim.position());
    }
    started[i] = true;
    if (claim.position() == null) {
      ended[i] = true;
      return true;
    }
    return ranges.get(i).tryClaim(claim.position());
  }

  @Override
  public synchronized LaneSet<R> currentRestriction() {
    List<R> current = new ArrayList<>(ranges.size());
    for (RestrictionTracker<R, P> range : ranges) {
      current.add(range.currentRestriction());
    }
    return new LaneSet<>(current);
  }

  @Override
  public synchronized @Nullable SplitResult<LaneSet<R>> trySplit(double fraction) {
    List<R> residual = new ArrayList<>();
    if (fraction == 0) {
      if (nanoClock.getAsLong() - checkpointsFrom < 0) {
        return null;
      }
      for (int i = 0; i < ranges.size(); i++) {
        giveAway(i, 0, residual);
      }
    } else {
      List<Integer> unstarted = new ArrayList<>();
      int widest = -1;
      for (int i = 0; i < ranges.size(); i++) {
        if (ended[i]) {
          continue;
        }
        if (!started[i] && left(i) > 0) { // not one that an earlier split emptied
          unstarted.add(i);
        }
        if (widest < 0 || left(i) > left(widest)) {
          widest = i;
        }
      }
      if (!unstarted.isEmpty()) {
        for (int k = unstarted.size() / 2; k < unstarted.size(); k++) {
          giveAway(unstarted.get(k), 0, residual);
        }
      } else if (widest >= 0) {
        giveAway(widest, fraction, residual);
      }
    }
    return residual.isEmpty() ? null : SplitResult.of(currentRestriction(), new LaneSet<>(residual));
  }

  /** Splits range {@code i} by its own tracker, adding what it gives away to {@code residual}. */
  private void giveAway(int i, double fraction, List<R> residual) {
    if (ended[i]) {
      return;
    }
    // Not judged by progress: a key range's is an estimate, which may round to nothing left.
    SplitResult<R> split = ranges.get(i).trySplit(fraction);
    if (split != null) {
      residual.add(split.getResidual());
    }
  }

  private double left(int i) {
    return progress(i).getWorkRemaining();
  }

  private Progress progress(int i) {
    return ((HasProgress) ranges.get(i)).getProgress();
  }

  @Override
  public synchronized void checkDone() throws IllegalStateException {
    for (int i = 0; i < ranges.size(); i++) {
      if (!ended[i]) {
        try {
          ranges.get(i).checkDone();
        } catch (IllegalStateException e) {
          throw new IllegalStateException("range " + i + " was not read to its end: " + e.getMessage(), e);
        }
      }
    }
  }

  @Override
  public IsBounded isBounded() {
    return IsBounded.BOUNDED;
  }

  /** The ranges' progress summed; an ended range counts as done. */
  @Override
  public synchronized Progress getProgress() {
    double done = 0;
    double left = 0;
    for (int i = 0; i < ranges.size(); i++) {
      Progress p = progress(i);
      done += p.getWorkCompleted();
      if (ended[i]) {
        done += p.getWorkRemaining();
      } else {
        left += p.getWorkRemaining();
      }
    }
    return Progress.from(done, left);
  }
}
