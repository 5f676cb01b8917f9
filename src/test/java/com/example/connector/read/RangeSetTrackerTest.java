package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.junit.jupiter.api.Test;

/** The tracker of sub-ranges read side by side, claim by claim; expectations by hand. */
class RangeSetTrackerTest {
  private static RangeSetTracker tracker(long... bounds) {
    List<OffsetRange> ranges = new java.util.ArrayList<>();
    for (int i = 0; i < bounds.length; i += 2) {
      ranges.add(new OffsetRange(bounds[i], bounds[i + 1]));
    }
    return new RangeSetTracker(new RangeSet(ranges), Duration.ZERO);
  }

  private static RangeSet set(long... bounds) {
    return tracker(bounds).currentRestriction();
  }

  private static boolean claim(RangeSetTracker t, int range, long cursor) {
    return t.tryClaim(new RangeSet.Position(range, cursor));
  }

  @Test
  void eachRangeIsClaimedOnItsOwnAndEndsOnlyItself() {
    RangeSetTracker t = tracker(0, 10, 100, 110);
    assertTrue(claim(t, 1, 105));
    assertTrue(claim(t, 0, 3));
    assertFalse(claim(t, 1, 110), "past range 1's end");
    assertTrue(claim(t, 0, 7), "range 0 goes on");
    assertThrows(IllegalArgumentException.class, () -> claim(t, 0, 7), "claims increase within a range");
    assertThrows(IllegalStateException.class, t::checkDone, "range 0 did not reach its end");
    assertTrue(claim(t, 0, 9), "its last position");
    t.checkDone();
  }

  @Test
  void aCheckpointKeepsWhatEachRangeClaimedAndGivesAwayTheRest() {
    RangeSetTracker t = tracker(0, 10, 100, 110, 200, 210);
    assertTrue(claim(t, 0, 4));
    assertTrue(claim(t, 1, 100));
    SplitResult<RangeSet> split = t.trySplit(0);
    assertEquals(set(0, 5, 100, 101, 200, 200), split.getPrimary());
    assertEquals(set(5, 10, 101, 110, 200, 210), split.getResidual());
    assertFalse(claim(t, 0, 5), "the lane stops at its next claim");
    t.checkDone();
  }

  @Test
  void aCheckpointIsRefusedUntilTheTrackerIsOldEnoughSoThatTheReadCheckpointsBetweenCalls() {
    AtomicLong nanos = new AtomicLong(1_000);
    RangeSetTracker t = new RangeSetTracker(
        new RangeSet(List.of(new OffsetRange(0, 10), new OffsetRange(100, 110))), Duration.ofSeconds(5), nanos::get);
    assertTrue(claim(t, 0, 4));
    nanos.addAndGet(4_999_999_999L);
    assertNull(t.trySplit(0), "4.999999999 s old: refused");
    assertTrue(claim(t, 0, 6), "the claims go on");
    assertEquals(set(100, 110), t.trySplit(0.5).getResidual(), "a split (not a checkpoint) is granted: range 1, not started");
    nanos.incrementAndGet();
    SplitResult<RangeSet> checkpoint = t.trySplit(0);
    assertEquals(set(0, 7, 100, 100), checkpoint.getPrimary(), "5 s old: granted");
    assertEquals(set(7, 10), checkpoint.getResidual());
  }

  @Test
  void aSplitGivesAwayTheLaterHalfOfTheRangesNotStarted() {
    RangeSetTracker t = tracker(0, 10, 100, 110, 200, 210, 300, 310);
    assertTrue(claim(t, 0, 2));
    SplitResult<RangeSet> split = t.trySplit(0.5);
    // Not started: ranges 1, 2, 3; the later half (from index 1 of 3): ranges 2 and 3.
    assertEquals(set(0, 10, 100, 110, 200, 200, 300, 300), split.getPrimary());
    assertEquals(set(200, 210, 300, 310), split.getResidual());
  }

  @Test
  void withEveryRangeStartedASplitCutsTheOneWithTheMostLeft() {
    RangeSetTracker t = tracker(0, 10, 100, 200);
    assertTrue(claim(t, 0, 1));
    assertTrue(claim(t, 1, 119));
    // Left: range 0 8 (2..9), range 1 80 (120..199); a quarter of 80 is 20: cut at 140.
    SplitResult<RangeSet> split = t.trySplit(0.25);
    assertEquals(set(0, 10, 100, 140), split.getPrimary());
    assertEquals(set(140, 200), split.getResidual());
    assertFalse(claim(t, 1, 140));
  }

  @Test
  void nothingLeftToSplitIsNoSplit() {
    RangeSetTracker t = tracker(0, 2);
    assertTrue(claim(t, 0, 1));
    assertFalse(claim(t, 0, 2));
    assertNull(t.trySplit(0));
    assertNull(t.trySplit(0.5));
  }

  @Test
  void progressCountsWhatIsClaimedAndWhatIsLeft() {
    RangeSetTracker t = tracker(0, 10, 100, 110);
    assertTrue(claim(t, 0, 4));
    assertEquals(5.0, t.getProgress().getWorkCompleted());
    assertEquals(15.0, t.getProgress().getWorkRemaining());
  }

  @Test
  void theCoderRoundTrips() throws Exception {
    RangeSet value = set(-5, 7, 1_700_000_000_000_000L, 1_800_000_000_000_000L);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    RangeSet.Coder.of().encode(value, bytes);
    assertEquals(value, RangeSet.Coder.of().decode(new ByteArrayInputStream(bytes.toByteArray())));
  }
}
