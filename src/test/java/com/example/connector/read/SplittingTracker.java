package com.example.connector.read;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A read's tracker as a runner holds it, split mid-read as a runner may: right after each claim
 * whose count (in {@code claims}, which trackers of one run may share) {@code splitAfter} accepts,
 * {@code fraction} of what is left (0: a checkpoint) goes to {@link #residuals}.
 */
final class SplittingTracker<R, P> extends RestrictionTracker<R, P> {
  private final RestrictionTracker<R, P> tracker;
  private final IntPredicate splitAfter;
  private final double fraction;
  private final AtomicInteger claims;
  final List<R> residuals = new ArrayList<>();

  SplittingTracker(RestrictionTracker<R, P> tracker, IntPredicate splitAfter, double fraction, AtomicInteger claims) {
    this.tracker = tracker;
    this.splitAfter = splitAfter;
    this.fraction = fraction;
    this.claims = claims;
  }

  /** Split once, after its own {@code splitAfter}-th claim. */
  SplittingTracker(RestrictionTracker<R, P> tracker, int splitAfter, double fraction) {
    this(tracker, n -> n == splitAfter, fraction, new AtomicInteger());
  }

  /** What the split gave away, or null if there was none. */
  @Nullable R residual() {
    return residuals.isEmpty() ? null : residuals.get(0);
  }

  @Override
  public boolean tryClaim(P position) {
    boolean claimed = tracker.tryClaim(position);
    if (claimed && splitAfter.test(claims.incrementAndGet())) {
      SplitResult<R> split = tracker.trySplit(fraction);
      if (split != null) {
        residuals.add(split.getResidual());
      }
    }
    return claimed;
  }

  @Override
  public R currentRestriction() {
    return tracker.currentRestriction();
  }

  @Override
  public @Nullable SplitResult<R> trySplit(double fractionOfRemainder) {
    return tracker.trySplit(fractionOfRemainder);
  }

  @Override
  public void checkDone() {
    tracker.checkDone();
  }

  @Override
  public IsBounded isBounded() {
    return tracker.isBounded();
  }
}
