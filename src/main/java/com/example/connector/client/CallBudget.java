package com.example.connector.client;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The calls one connection may have in flight in this JVM, shared by all its clients: a
 * first-come first-served gate of {@code limit} calls. The limit starts at the connection's
 * {@code max_concurrent_requests} and adapts (AIMD): it halves, not below 1, when a call is
 * answered 429 or 503, and grows by 1, never above the maximum, after {@code limit} successes
 * since it last changed (about one more call per round of the current width; other failures,
 * a 500 or a cut connection, say nothing of the load and change nothing). A {@code Retry-After} holds every
 * call of the connection until it ends, not just the call that got it: a rate limit is per
 * credential, so the other calls would only be refused too.
 *
 * <p>Time is read from a {@link Clock} and waited out by a {@link ExampleClient.Sleeper}, so
 * tests move time instead of sleeping. Thread-safe.
 */
final class CallBudget {
  /** How an attempt ended, for the adaptation. */
  enum Outcome { SUCCESS, THROTTLED, OTHER }

  /** One admitted call: whether it had to wait for a {@code Retry-After} of the connection. */
  record Permit(boolean held) {}

  /** Budgets by connection: base URL and username (never the password), and the maximum. */
  private record Key(URI baseUrl, String username, int max) {}

  private static final ConcurrentHashMap<Key, CallBudget> BUDGETS = new ConcurrentHashMap<>();
  private static final Logger LOG = LoggerFactory.getLogger(CallBudget.class);

  private final int max;
  private final Clock clock;
  private final ExampleClient.Sleeper sleeper;
  private final ReentrantLock lock = new ReentrantLock();
  // Waiting calls, first come first; each waits on its own condition and only the head is woken,
  // since waking every waiter at each release cost O(waiters) thread wake-ups per call.
  private final ArrayDeque<Condition> queue = new ArrayDeque<>();
  private int limit;
  private int inFlight;
  private int successes; // since the limit last changed
  private Instant notBefore = Instant.EPOCH;

  CallBudget(int max, Clock clock, ExampleClient.Sleeper sleeper) {
    if (max < 1) {
      throw new IllegalArgumentException("max_concurrent_requests must be at least 1, was " + max);
    }
    this.max = max;
    this.limit = max;
    this.clock = Objects.requireNonNull(clock);
    this.sleeper = Objects.requireNonNull(sleeper);
  }

  /** The budget every client of {@code config}'s connection in this JVM shares. */
  static CallBudget of(SourceConfig config) {
    Key key = new Key(config.baseUrl(), config.username(), config.maxConcurrentRequests());
    return BUDGETS.computeIfAbsent(
        key, k -> new CallBudget(k.max(), Clock.systemUTC(), CallBudget::sleepExactly));
  }

  /** Sleeps to the nanosecond asked, so that a hold ending within a millisecond is not spun on. */
  private static void sleepExactly(Duration d) throws InterruptedException {
    Thread.sleep(d.toMillis(), d.toNanosPart() % 1_000_000);
  }

  /** The current limit on calls in flight. */
  int limit() {
    lock.lock();
    try {
      return limit;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits for this call's turn, a free place under the limit and the end of any
   * {@code Retry-After}, then counts the call in flight and tells {@code listener} (under the
   * budget's lock, so in the order calls are admitted). Each permit must be {@link #release}d.
   */
  Permit acquire(String path, ExampleClient.RetryListener listener) {
    lock.lock();
    Condition me = lock.newCondition();
    try {
      queue.add(me);
      boolean held = !holdLeft().isZero();
      while (true) {
        if (queue.peek() != me || inFlight >= limit) {
          me.await();
          continue;
        }
        Duration left = holdLeft();
        if (left.isZero()) {
          break;
        }
        held = true;
        sleepUnlocked(left);
      }
      inFlight++;
      listener.onCallStarted(path, inFlight);
      return new Permit(held);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SourceException("interrupted while waiting for the connection's call budget", 0, e);
    } finally {
      queue.remove(me);
      wakeNext();
      lock.unlock();
    }
  }

  /** Lets the first waiting call see whether it may go now; under the lock. */
  private void wakeNext() {
    Condition next = queue.peek();
    if (next != null) {
      next.signal();
    }
  }

  /** What is left of the connection's {@code Retry-After}: zero if none; under the lock. */
  private Duration holdLeft() {
    Instant now = clock.instant();
    Duration left = Duration.between(now, notBefore);
    if (left.compareTo(ExampleClient.MAX_RETRY_AFTER) > 0) {
      // Longer than any hold: this machine's clock was set back under it. A hold is a wait the
      // source asked for, not an instant of this clock: wait no longer than the longest one.
      notBefore = now.plus(ExampleClient.MAX_RETRY_AFTER);
      left = ExampleClient.MAX_RETRY_AFTER;
    }
    return left.isNegative() ? Duration.ZERO : left;
  }

  /** The head of the queue sleeps without the lock, so that running calls can still end. */
  private void sleepUnlocked(Duration wait) throws InterruptedException {
    lock.unlock();
    try {
      sleeper.sleep(wait);
    } finally {
      lock.lock();
    }
  }

  /** Ends a call admitted by {@link #acquire} and adapts the limit to how it ended. */
  void release(Outcome outcome) {
    lock.lock();
    try {
      inFlight--;
      if (outcome == Outcome.SUCCESS) {
        grow();
      } else if (outcome == Outcome.THROTTLED) {
        limit = Math.max(1, limit / 2);
        successes = 0;
      }
      wakeNext();
    } finally {
      lock.unlock();
    }
  }

  private void grow() {
    if (++successes >= limit) {
      limit = Math.min(max, limit + 1);
      successes = 0;
    }
  }

  /**
   * Holds every call of the connection for {@code retryAfter} from now (a later hold already set
   * stays), and tells {@code listener} until when, under the lock.
   */
  void hold(String path, Duration retryAfter, ExampleClient.RetryListener listener) {
    lock.lock();
    try {
      Instant until = clock.instant().plus(retryAfter);
      if (until.isAfter(notBefore)) {
        notBefore = until;
        // The path without its query: the table is what a reader needs, not the encoded cursor.
        LOG.info("The source asked to wait {} ms (Retry-After) on {}: every call of this connection waits until {}",
            retryAfter.toMillis(), path.replaceFirst("\\?.*", ""), until.truncatedTo(ChronoUnit.SECONDS));
      }
      listener.onHold(path, notBefore);
    } finally {
      lock.unlock();
    }
  }

  /** Waits between attempts of one call, on the budget's time. */
  void sleep(Duration wait) {
    try {
      sleeper.sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SourceException("interrupted while waiting to retry", 0, e);
    }
  }
}
