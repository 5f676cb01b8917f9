package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.example.connector.read.ReadSnapshotPagesFn.KeyRange;
import com.example.connector.read.ReadSnapshotPagesFn.PageKeys;
import com.example.connector.read.ReadSnapshotPagesFn.PageKeysTracker;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.io.range.ByteKey;
import org.apache.beam.sdk.io.range.ByteKeyRange;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker.Progress;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The lane trackers driven as a runner and the readers drive them, against a model written by
 * hand: a restriction is the set of positions it holds (cursor values; keys). Readers claim
 * through their lanes' views ({@link Lanes.LaneView}, with the reads' own range rules), the
 * runner splits at random fractions (0, 0.5, 0.99, any) at random moments (before any claim,
 * after claims, after a lane ended), and every primary and residual is checked against the set
 * it was cut from; residuals are read in turn, each restriction through its coder. In the end
 * every record was output exactly once.
 */
class LaneSetSplitModelTest {
  private static final double[] FRACTIONS = {0, 0, 0.5, 0.99, -1}; // -1: a random fraction

  static List<Long> seeds() {
    List<Long> seeds = new ArrayList<>();
    for (long s = 1; s <= 300; s++) {
      seeds.add(s);
    }
    return seeds;
  }

  // --- cursor ranges ---

  @ParameterizedTest
  @MethodSource("seeds")
  void cursorLaneSetsSplitAnywhereLoseAndRepeatNothing(long seed) throws Exception {
    Random random = new Random(seed);
    int lanes = 1 + random.nextInt(4);
    List<OffsetRange> ranges = new ArrayList<>();
    long from = random.nextInt(3);
    for (int i = 0; i < lanes; i++) {
      long to = from + random.nextInt(25);
      ranges.add(new OffsetRange(from, to));
      from = to;
    }
    TreeSet<Long> records = new TreeSet<>();
    for (long p = 0; p < from + 3; p++) {
      if (random.nextInt(3) > 0) {
        records.add(p);
      }
    }
    Lanes.Ranges<OffsetRange, Long> rules = rules(FeedRangeReadFn.class, "CURSOR_RANGES");
    Model<OffsetRange, Long, Long> model = new Model<>(random, LaneSet.coder(OffsetRange.Coder.of()),
        r -> new OffsetRangeTracker(r), rules, this::positions,
        (range, lastClaimed) -> {
          Long next = records.ceiling(lastClaimed == null ? range.getFrom() : lastClaimed + 1);
          return next == null ? List.<List<Long>>of() : List.of(List.of(next));
        },
        (range, chunk) -> chunk, range -> range.getTo());
    List<Long> out = model.run(new LaneSet<>(ranges));
    List<Long> expected = new ArrayList<>();
    for (long r : records) {
      if (r >= ranges.get(0).getFrom() && r < from) {
        expected.add(r);
      }
    }
    assertEquals(expected, out.stream().sorted().toList(), "seed " + seed + ": every record once");
  }

  private TreeSet<Long> positions(LaneSet<OffsetRange> set) {
    TreeSet<Long> all = new TreeSet<>();
    for (OffsetRange r : set.ranges()) {
      for (long p = r.getFrom(); p < r.getTo(); p++) {
        assertTrue(all.add(p), "ranges of one set overlap at " + p + ": " + set);
      }
    }
    return all;
  }

  // --- key ranges ---

  @ParameterizedTest
  @MethodSource("seeds")
  void keyLaneSetsSplitAnywhereLoseAndRepeatNothing(long seed) throws Exception {
    Random random = new Random(seed);
    TreeSet<ByteKey> records = new TreeSet<>();
    if (random.nextBoolean()) {
      records.add(ByteKey.of(0)); // the empty string's key
    }
    for (char a = 'a'; a <= 'f'; a++) {
      for (char b = 'a'; b <= 'f'; b++) {
        if (random.nextInt(3) > 0) {
          records.add(key("" + a + b));
        }
      }
    }
    List<ByteKey> cuts = new ArrayList<>();
    cuts.add(ByteKey.EMPTY);
    for (String cut : List.of("b", "bc", "d", "dd", "e")) {
      if (random.nextBoolean()) {
        cuts.add(key(cut));
      }
    }
    cuts.add(ByteKey.EMPTY);
    List<KeyRange> ranges = new ArrayList<>();
    for (int i = 0; i + 1 < cuts.size(); i++) {
      ranges.add(new KeyRange(ByteKeyRange.of(cuts.get(i), cuts.get(i + 1)), 1 + i));
    }
    Lanes.Ranges<KeyRange, PageKeys> rules = rules(ReadSnapshotPagesFn.class, "KEY_RANGES");
    TreeSet<ByteKey> probes = new TreeSet<>(records);
    Model<KeyRange, PageKeys, ByteKey> model = new Model<>(random, LaneSet.coder(KeyRange.Coder.INSTANCE),
        PageKeysTracker::new, rules, set -> keysIn(set, probes),
        (range, lastClaimed) -> {
          // A chunk: the next 1 to 3 records from the range's start, after the last claimed.
          ByteKey start = range.keys().getStartKey();
          List<ByteKey> chunk = new ArrayList<>();
          for (ByteKey k : records.tailSet(start, true)) {
            if (lastClaimed != null && k.compareTo(lastClaimed) <= 0) {
              continue;
            }
            chunk.add(k);
            if (chunk.size() == 1 + random.nextInt(3)) {
              break;
            }
          }
          return chunk.isEmpty() ? List.of() : List.of(chunk);
        },
        (range, chunk) -> chunk.stream().filter(k -> range.keys().containsKey(k)).toList(),
        range -> null) {
      @Override
      PageKeys claimOf(List<ByteKey> chunk) {
        return new PageKeys(chunk.get(0), chunk.get(chunk.size() - 1), 1);
      }

      @Override
      PageKeys pastTheEnd(KeyRange range) {
        return PageKeys.REST;
      }

      @Override
      void sawBoundaries(LaneSet<KeyRange> set) {
        for (KeyRange r : set.ranges()) {
          probes.add(r.keys().getStartKey());
          if (!r.keys().getEndKey().isEmpty()) {
            probes.add(r.keys().getEndKey());
          }
        }
      }
    };
    List<ByteKey> out = model.run(new LaneSet<>(ranges));
    assertEquals(List.copyOf(records), out.stream().sorted().toList(), "seed " + seed + ": every record once");
  }

  /** The probe keys that the set holds, each in one range only. */
  private static TreeSet<ByteKey> keysIn(LaneSet<KeyRange> set, TreeSet<ByteKey> probes) {
    TreeSet<ByteKey> all = new TreeSet<>();
    for (KeyRange r : set.ranges()) {
      for (ByteKey k : probes) {
        if (!k.isEmpty() && r.keys().containsKey(k) && !emptyRange(r.keys())) {
          assertTrue(all.add(k), "ranges of one set overlap at " + k + ": " + set);
        }
      }
    }
    return all;
  }

  private static boolean emptyRange(ByteKeyRange r) {
    return !r.getEndKey().isEmpty() && r.getStartKey().compareTo(r.getEndKey()) >= 0;
  }

  // --- the runner and the readers ---

  interface NextChunk<R, K> {
    /** The next records a reader of {@code range} reads after {@code lastClaimed}: one chunk, or none left. */
    List<List<K>> next(R range, K lastClaimed);
  }

  interface Emitted<R, K> {
    /** What a claimed chunk outputs, given the range at the claim. */
    List<K> of(R range, List<K> chunk);
  }

  /**
   * A runner's loop over one restriction and its residuals, its readers claiming chunks through
   * the lanes' views, splits at random in between.
   */
  private static class Model<R, P, K> {
    final Random random;
    final Coder<LaneSet<R>> coder;
    final Function<R, ? extends RestrictionTracker<R, P>> newTracker;
    final Lanes.Ranges<R, P> rules;
    final Function<LaneSet<R>, TreeSet<K>> positions;
    final NextChunk<R, K> next;
    final Emitted<R, K> emitted;
    final Function<R, K> end;

    Model(Random random, Coder<LaneSet<R>> coder, Function<R, ? extends RestrictionTracker<R, P>> newTracker,
        Lanes.Ranges<R, P> rules, Function<LaneSet<R>, TreeSet<K>> positions, NextChunk<R, K> next,
        Emitted<R, K> emitted, Function<R, K> end) {
      this.random = random;
      this.coder = coder;
      this.newTracker = newTracker;
      this.rules = rules;
      this.positions = positions;
      this.next = next;
      this.emitted = emitted;
      this.end = end;
    }

    @SuppressWarnings("unchecked")
    P claimOf(List<K> chunk) {
      return (P) chunk.get(0);
    }

    @SuppressWarnings("unchecked")
    P pastTheEnd(R range) {
      return (P) end.apply(range);
    }

    void sawBoundaries(LaneSet<R> set) {}

    List<K> run(LaneSet<R> initial) throws Exception {
      List<K> out = new ArrayList<>();
      Deque<LaneSet<R>> work = new ArrayDeque<>();
      work.add(initial);
      sawBoundaries(initial);
      int restrictions = 0;
      while (!work.isEmpty()) {
        if (++restrictions > 2_000) {
          fail("no end to the residuals: " + work.peek());
        }
        LaneSet<R> restriction = roundTrip(work.poll());
        LaneSetTracker<R, P> tracker = new LaneSetTracker<>(restriction, newTracker, Duration.ZERO);
        checkProgress(tracker);
        int lanes = restriction.ranges().size();
        List<Lanes.LaneView<R, P>> views = new ArrayList<>();
        List<K> lastClaimed = new ArrayList<>();
        boolean[] done = new boolean[lanes];
        for (int i = 0; i < lanes; i++) {
          views.add(new Lanes.LaneView<>(tracker, i, rules));
          lastClaimed.add(null);
          done[i] = rules.isEmpty(restriction.ranges().get(i)); // Lanes starts no lane for an empty range
        }
        while (true) {
          int open = 0;
          for (boolean d : done) {
            open += d ? 0 : 1;
          }
          if (open == 0) {
            break;
          }
          int action = random.nextInt(10);
          if (action == 0) {
            split(tracker, work, out);
            continue;
          }
          if (action == 1 && random.nextInt(4) == 0) { // the read pauses: the runner checkpoints
            split(tracker, work, out, 0);
            break;
          }
          int lane = random.nextInt(lanes);
          if (done[lane]) {
            continue;
          }
          Lanes.LaneView<R, P> view = views.get(lane);
          R range = view.currentRestriction();
          List<List<K>> chunk = next.next(range, lastClaimed.get(lane));
          if (chunk.isEmpty()) {
            assertFalse(view.tryClaim(pastTheEnd(range)), "past the end");
            done[lane] = true;
            continue;
          }
          List<K> keys = chunk.get(0);
          if (!view.tryClaim(claimOf(keys))) {
            done[lane] = true;
            continue;
          }
          lastClaimed.set(lane, keys.get(keys.size() - 1));
          out.addAll(emitted.of(view.currentRestriction(), keys));
        }
        tracker.checkDone();
        checkProgress(tracker);
      }
      return out;
    }

    void split(LaneSetTracker<R, P> tracker, Deque<LaneSet<R>> work, List<K> out) throws Exception {
      double f = FRACTIONS[random.nextInt(FRACTIONS.length)];
      split(tracker, work, out, f < 0 ? random.nextDouble() : f);
    }

    void split(LaneSetTracker<R, P> tracker, Deque<LaneSet<R>> work, List<K> out, double fraction) throws Exception {
      LaneSet<R> before = roundTrip(tracker.currentRestriction());
      TreeSet<K> was = positions.apply(before);
      SplitResult<LaneSet<R>> split = tracker.trySplit(fraction);
      checkProgress(tracker);
      if (split == null) {
        assertEquals(before, tracker.currentRestriction(), "no split, no change");
        return;
      }
      sawBoundaries(split.getPrimary());
      sawBoundaries(split.getResidual());
      was = positions.apply(before); // with the new boundaries as probes
      TreeSet<K> primary = positions.apply(split.getPrimary());
      TreeSet<K> residual = positions.apply(split.getResidual());
      for (K k : primary) {
        assertFalse(residual.contains(k), () -> "in both primary and residual: " + k + " of " + before + " at "
            + fraction + ": " + split);
      }
      TreeSet<K> both = new TreeSet<>(primary);
      both.addAll(residual);
      assertEquals(was, both, () -> "primary and residual cover " + before + " at " + fraction + ": " + split);
      assertEquals(split.getPrimary(), tracker.currentRestriction());
      LaneSet<R> residualSet = roundTrip(split.getResidual());
      LaneSetTracker<R, P> fresh = new LaneSetTracker<>(residualSet, newTracker, Duration.ZERO);
      checkProgress(fresh);
      assertTrue(residual.isEmpty() || fresh.getProgress().getWorkRemaining() > 0,
          () -> "the size of a residual with work: " + residualSet);
      work.add(residualSet);
    }

    void checkProgress(LaneSetTracker<R, P> tracker) {
      Progress p = tracker.getProgress();
      assertTrue(p.getWorkCompleted() >= 0 && p.getWorkRemaining() >= 0, () -> "progress " + p);
      assertFalse(Double.isNaN(p.getWorkCompleted()) || Double.isNaN(p.getWorkRemaining()), () -> "progress " + p);
    }

    LaneSet<R> roundTrip(LaneSet<R> set) throws Exception {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      coder.encode(set, bytes);
      LaneSet<R> back = coder.decode(new ByteArrayInputStream(bytes.toByteArray()));
      assertEquals(set, back, "the coder round-trips");
      return back;
    }
  }

  @SuppressWarnings("unchecked")
  private static <R, P> Lanes.Ranges<R, P> rules(Class<?> fn, String name) throws Exception {
    Field field = fn.getDeclaredField(name);
    field.setAccessible(true);
    return (Lanes.Ranges<R, P>) field.get(null);
  }

  private static ByteKey key(String text) {
    return ByteKey.copyFrom(text.getBytes(StandardCharsets.UTF_16BE));
  }
}
