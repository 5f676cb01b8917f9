package com.example.connector.read;

import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A read's tracker as a runner holds it, split once mid-read as a runner may: right after the
 * {@code splitAfter}-th claim, {@code fraction} of what is left (0: a checkpoint) goes to
 * {@link #residual}.
 */
final class SplitOnceTracker<R, P> extends RestrictionTracker<R, P> {
  private final RestrictionTracker<R, P> tracker;
  private final int splitAfter;
  private final double fraction;
  private int claims;
  @Nullable R residual;

  SplitOnceTracker(RestrictionTracker<R, P> tracker, int splitAfter, double fraction) {
    this.tracker = tracker;
    this.splitAfter = splitAfter;
    this.fraction = fraction;
  }

  @Override
  public boolean tryClaim(P position) {
    boolean claimed = tracker.tryClaim(position);
    if (claimed && ++claims == splitAfter) {
      SplitResult<R> split = tracker.trySplit(fraction);
      residual = split == null ? null : split.getResidual();
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
