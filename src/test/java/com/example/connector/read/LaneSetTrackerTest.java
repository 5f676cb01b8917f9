package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.read.ReadSnapshotPagesFn.KeyRange;
import com.example.connector.read.ReadSnapshotPagesFn.PageKeys;
import com.example.connector.read.ReadSnapshotPagesFn.PageKeysTracker;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.io.range.ByteKey;
import org.apache.beam.sdk.io.range.ByteKeyRange;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.junit.jupiter.api.Test;

/**
 * The tracker of ranges read side by side, claim by claim; expectations by hand, from Beam's
 * trackers' documented arithmetic (an {@code OffsetRangeTracker} splits at {@code last attempted +
 * max(1, fraction * (to - last attempted))} and counts {@code to - last attempted} as left).
 */
class LaneSetTrackerTest {
  private static LaneSetTracker<OffsetRange, Long> tracker(long... bounds) {
    return new LaneSetTracker<>(set(bounds), OffsetRangeTracker::new, Duration.ZERO);
  }

  private static LaneSet<OffsetRange> set(long... bounds) {
    List<OffsetRange> ranges = new ArrayList<>();
    for (int i = 0; i < bounds.length; i += 2) {
      ranges.add(new OffsetRange(bounds[i], bounds[i + 1]));
    }
    return new LaneSet<>(ranges);
  }

  private static boolean claim(LaneSetTracker<OffsetRange, Long> t, int range, long cursor) {
    return t.tryClaim(new LaneSet.Claim<>(range, cursor));
  }

  @Test
  void eachRangeIsClaimedOnItsOwnAndEndsOnlyItself() {
    LaneSetTracker<OffsetRange, Long> t = tracker(0, 10, 100, 110);
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
  void theEndOfARangeIsAClaimThatSucceedsAndEndsThatRangeAlone() {
    LaneSetTracker<OffsetRange, Long> t = tracker(0, 10, 100, 110);
    assertTrue(claim(t, 0, 3));
    assertTrue(t.tryClaim(LaneSet.Claim.end(0)), "not a failed claim: the other lanes still output");
    assertThrows(IllegalArgumentException.class, () -> claim(t, 0, 4), "an ended range takes no claim");
    assertTrue(claim(t, 1, 104));
    SplitResult<LaneSet<OffsetRange>> checkpoint = t.trySplit(0);
    assertEquals(set(105, 110), checkpoint.getResidual(), "an ended range gives nothing away");
    assertTrue(t.tryClaim(LaneSet.Claim.end(1)));
    t.checkDone();
    assertEquals(10.0 + 5, t.getProgress().getWorkCompleted(), "ended ranges count as done");
    assertEquals(0.0, t.getProgress().getWorkRemaining());
  }

  @Test
  void aCheckpointKeepsWhatEachRangeClaimedAndGivesAwayTheRest() {
    LaneSetTracker<OffsetRange, Long> t = tracker(0, 10, 100, 110, 200, 210);
    assertTrue(claim(t, 0, 4));
    assertTrue(claim(t, 1, 100));
    SplitResult<LaneSet<OffsetRange>> split = t.trySplit(0);
    assertEquals(set(0, 5, 100, 101, 200, 200), split.getPrimary());
    assertEquals(set(5, 10, 101, 110, 200, 210), split.getResidual());
    assertFalse(claim(t, 0, 5), "the lane stops at its next claim");
    t.checkDone();
  }

  @Test
  void aCheckpointIsRefusedUntilTheTrackerIsOldEnoughSoThatTheReadCheckpointsBetweenCalls() {
    AtomicLong nanos = new AtomicLong(1_000);
    LaneSetTracker<OffsetRange, Long> t =
        new LaneSetTracker<>(set(0, 10, 100, 110), OffsetRangeTracker::new, Duration.ofSeconds(5), nanos::get);
    assertTrue(claim(t, 0, 4));
    nanos.addAndGet(4_999_999_999L);
    assertNull(t.trySplit(0), "4.999999999 s old: refused");
    assertTrue(claim(t, 0, 6), "the claims go on");
    assertEquals(set(100, 110), t.trySplit(0.5).getResidual(), "a split (not a checkpoint) is granted: range 1, not started");
    nanos.incrementAndGet();
    SplitResult<LaneSet<OffsetRange>> checkpoint = t.trySplit(0);
    assertEquals(set(0, 7, 100, 100), checkpoint.getPrimary(), "5 s old: granted");
    assertEquals(set(7, 10), checkpoint.getResidual(), "range 1, emptied by the split, gives nothing");
  }

  @Test
  void aSplitGivesAwayTheLaterHalfOfTheRangesNotStarted() {
    LaneSetTracker<OffsetRange, Long> t = tracker(0, 10, 100, 110, 200, 210, 300, 310);
    assertTrue(claim(t, 0, 2));
    SplitResult<LaneSet<OffsetRange>> split = t.trySplit(0.5);
    // Not started: ranges 1, 2, 3; the later half (from index 1 of 3): ranges 2 and 3.
    assertEquals(set(0, 10, 100, 110, 200, 200, 300, 300), split.getPrimary());
    assertEquals(set(200, 210, 300, 310), split.getResidual());
  }

  @Test
  void withEveryRangeStartedASplitCutsTheOneWithTheMostLeft() {
    LaneSetTracker<OffsetRange, Long> t = tracker(0, 10, 100, 200);
    assertTrue(claim(t, 0, 1));
    assertTrue(claim(t, 1, 119));
    // Left: range 0 9 (10 - 1), range 1 81 (200 - 119); a quarter of 81 is 20.25: cut at 139.
    SplitResult<LaneSet<OffsetRange>> split = t.trySplit(0.25);
    assertEquals(set(0, 10, 100, 139), split.getPrimary());
    assertEquals(set(139, 200), split.getResidual());
    assertFalse(claim(t, 1, 139));
  }

  @Test
  void nothingLeftToSplitIsNoSplit() {
    LaneSetTracker<OffsetRange, Long> t = tracker(0, 2);
    assertTrue(claim(t, 0, 1));
    assertFalse(claim(t, 0, 2));
    assertNull(t.trySplit(0));
    assertNull(t.trySplit(0.5));
  }

  @Test
  void progressCountsWhatIsClaimedAndWhatIsLeft() {
    LaneSetTracker<OffsetRange, Long> t = tracker(0, 10, 100, 110);
    assertTrue(claim(t, 0, 4));
    assertEquals(4.0, t.getProgress().getWorkCompleted());
    assertEquals(6.0 + 10, t.getProgress().getWorkRemaining());
  }

  @Test
  void keyRangesCheckpointAfterTheirLastClaimedChunkStartingAtItsPage() {
    LaneSetTracker<KeyRange, PageKeys> t = new LaneSetTracker<>(
        new LaneSet<>(List.of(keys("", "m", 1), keys("m", "", 40))), PageKeysTracker::new, Duration.ZERO);
    assertTrue(t.tryClaim(new LaneSet.Claim<>(0, new PageKeys(key("a"), key("c"), 3))));
    SplitResult<LaneSet<KeyRange>> checkpoint = t.trySplit(0);
    ByteKey afterC = ByteKey.copyFrom(new byte[] {0, 'c', 0});
    assertEquals(new LaneSet<>(List.of(new KeyRange(ByteKeyRange.of(ByteKey.EMPTY, afterC), 1),
        new KeyRange(ByteKeyRange.of(key("m"), key("m")), 40))), checkpoint.getPrimary());
    assertEquals(new LaneSet<>(List.of(new KeyRange(ByteKeyRange.of(afterC, key("m")), 3), keys("m", "", 40))),
        checkpoint.getResidual(), "range 0 from the key after the chunk, at the chunk's page; range 1 whole");
    t.checkDone();
  }

  @Test
  void aKeyRangeSplitAtAnInterpolatedKeySearchesForItsFirstPage() {
    LaneSetTracker<KeyRange, PageKeys> t = new LaneSetTracker<>(
        new LaneSet<>(List.of(keys("a", "z", 7))), PageKeysTracker::new, Duration.ZERO);
    assertTrue(t.tryClaim(new LaneSet.Claim<>(0, new PageKeys(key("b"), key("c"), 9))));
    KeyRange residual = t.trySplit(0.5).getResidual().ranges().get(0);
    assertTrue(residual.search(), "its start lies somewhere after page 9: " + residual);
    assertEquals(9, residual.fromPage());
  }

  /** Found by ReadSpreadTest: a key range's progress is an estimate that rounds to nothing left. */
  @Test
  void aKeyRangeWhoseProgressRoundsToDoneStillGivesAwayItsRest() {
    LaneSetTracker<KeyRange, PageKeys> t = new LaneSetTracker<>(
        new LaneSet<>(List.of(keys("", "prod_0004", 1))), PageKeysTracker::new, Duration.ZERO);
    assertTrue(t.tryClaim(new LaneSet.Claim<>(0, new PageKeys(key("prod_0000"), key("prod_0000"), 1))));
    ByteKey afterFirst = ByteKey.copyFrom(Arrays.copyOf(key("prod_0000").getBytes(), 19)); // its bytes and a 0
    assertEquals(new LaneSet<>(List.of(new KeyRange(ByteKeyRange.of(afterFirst, key("prod_0004")), 1))),
        t.trySplit(0).getResidual(), "prod_0001 to prod_0003 are still to read");
  }

  @Test
  void theCodersRoundTrip() throws Exception {
    roundTrip(LaneSet.coder(OffsetRange.Coder.of()), set(-5, 7, 1_700_000_000_000_000L, 1_800_000_000_000_000L));
    roundTrip(LaneSet.coder(KeyRange.Coder.INSTANCE), new LaneSet<>(List.of(keys("", "prod_1", 1), keys("prod_1", "", 17))));
  }

  private static <T> void roundTrip(Coder<T> coder, T value) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    coder.encode(value, bytes);
    assertEquals(value, coder.decode(new ByteArrayInputStream(bytes.toByteArray())));
  }

  private static KeyRange keys(String from, String to, long page) {
    return new KeyRange(ByteKeyRange.of(key(from), key(to)), page);
  }

  private static ByteKey key(String text) {
    return ByteKey.copyFrom(text.getBytes(StandardCharsets.UTF_16BE));
  }
}
