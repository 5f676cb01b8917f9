package com.example.connector.read;

import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;

/**
 * A tracker that part of a read claims through while the runner holds the real one: a lane of a
 * set of ranges ({@link Lanes.LaneView}), a continuous feed's poll (capped at the source's clock).
 * The runner splits and checks the real tracker, never the view, so a view refuses to split and
 * leaves the check to it.
 */
abstract class TrackerView<R, P> extends RestrictionTracker<R, P> {
  @Override
  public final SplitResult<R> trySplit(double fractionOfRemainder) {
    throw new UnsupportedOperationException("a view is split through the runner's tracker, not itself");
  }

  @Override
  public final void checkDone() {
    // the runner checks the real tracker
  }

  @Override
  public final IsBounded isBounded() {
    return IsBounded.BOUNDED;
  }
}
