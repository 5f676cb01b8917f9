package com.example.connector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Tasks side by side handing items to the calling thread ({@link ParallelCalls#handOver}). */
class ParallelCallsTest {
  /** Three tasks of 50 items each through a queue of 2: every item reaches this thread once, each task's in order. */
  @Test
  void everyTasksItemsReachTheCallingThreadInTheirOrder() {
    List<Consumer<Consumer<String>>> tasks = new ArrayList<>();
    for (String task : List.of("a", "b", "c")) {
      tasks.add(out -> {
        for (int i = 0; i < 50; i++) {
          out.accept(task + i);
        }
      });
    }
    List<String> received = new ArrayList<>();
    Thread caller = Thread.currentThread();
    try (ParallelCalls calls = new ParallelCalls("test")) {
      calls.handOver(tasks, 2, (item, waiting) -> {
        assertSame(caller, Thread.currentThread());
        received.add(item);
      });
    }
    assertEquals(150, received.size());
    for (String task : List.of("a", "b", "c")) {
      List<String> ofTask = received.stream().filter(r -> r.startsWith(task)).toList();
      assertEquals(50, ofTask.size());
      for (int i = 0; i < 50; i++) {
        assertEquals(task + i, ofTask.get(i));
      }
    }
  }

  /** A task that fails: its failure is rethrown here, and a task still running is stopped. */
  @Test
  void aFailingTaskStopsTheOthersAndItsFailureIsRethrown() throws InterruptedException {
    CountDownLatch waiting = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    List<Consumer<Consumer<String>>> tasks = List.of(
        out -> {
          try {
            waiting.countDown();
            new CountDownLatch(1).await(); // only an interrupt ends it
          } catch (InterruptedException e) {
            stopped.countDown();
          }
        },
        out -> {
          try {
            waiting.await();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          throw new IllegalArgumentException("row group 3 unreadable");
        });
    try (ParallelCalls calls = new ParallelCalls("test")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> calls.handOver(tasks, 2, (item, rest) -> { }));
      assertEquals("row group 3 unreadable", e.getMessage());
      assertTrue(stopped.await(1, TimeUnit.MINUTES), "the other task was interrupted");
    }
  }

  /**
   * The threads stopped under a hand-over (a step torn down while its element is processed, as
   * the DirectRunner does when a continuous run is cancelled): interrupted, a task cannot queue its
   * end, and the calling thread waited for it for ever (a worker left behind in CI).
   */
  @Test
  void aHandOverWhoseThreadsAreStoppedEndsInsteadOfWaitingForEver() throws InterruptedException {
    ParallelCalls calls = new ParallelCalls("test");
    CountDownLatch draining = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread caller = new Thread(() -> {
      try {
        calls.handOver(List.<Consumer<Consumer<Integer>>>of(out -> {
          for (int i = 0; ; i++) {
            out.accept(i); // the queue of 1 is soon full: the task waits in it
          }
        }), 1, (item, rest) -> {
          draining.countDown();
          awaitUninterruptibly(release);
        });
      } catch (Throwable t) {
        thrown.set(t);
      }
    }, "caller");
    caller.setDaemon(true);
    caller.start();
    assertTrue(draining.await(1, TimeUnit.MINUTES));
    calls.close(); // the step's teardown: its threads are interrupted
    release.countDown();
    caller.join(TimeUnit.MINUTES.toMillis(1));
    assertFalse(caller.isAlive(), "the hand-over still waits for its stopped task");
    assertTrue(thrown.get() instanceof IllegalStateException && thrown.get().getMessage().contains("test stopped"),
        () -> String.valueOf(thrown.get()));
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    while (true) {
      try {
        latch.await();
        return;
      } catch (InterruptedException e) {
        // the caller is not the one stopped here
      }
    }
  }
}
