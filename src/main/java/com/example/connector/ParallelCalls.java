package com.example.connector;

import java.io.Closeable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.beam.sdk.metrics.MetricsContainer;
import org.apache.beam.sdk.metrics.MetricsEnvironment;

/**
 * Threads to do a step's work on side by side: a read DoFn instance's source calls (its lanes, its
 * probes, opened in {@code @Setup}, closed in {@code @Teardown}), the planner's discovery, and the
 * merge's reads of committed row groups. Each counts into the metrics of the step that started
 * it, as the processing thread does. Source calls wait for the connection's call budget, which
 * bounds them; a file read bounds its own threads.
 */
public final class ParallelCalls implements AutoCloseable {
  /**
   * How long a thread outlives its last task. Not the 60 s of a cached pool: a runner may keep many
   * DoFn instances (the DirectRunner one per worker thread and step), each with up to a group's
   * lanes of idle threads, and every thread costs resident memory (measured: 501 threads at once).
   */
  static final long IDLE_MILLIS = 1_000;

  /** How often {@link #handOver}, waiting for items, checks that its tasks are still there. */
  private static final long STOPPED_CHECK_MILLIS = 200;

  /** A task's end, in the queue of {@link #handOver}. */
  private static final Object ENDED = new Object();

  private final String name;
  private final ExecutorService threads;

  public ParallelCalls(String name) {
    this.name = name;
    threads = new ThreadPoolExecutor(0, Integer.MAX_VALUE, IDLE_MILLIS, TimeUnit.MILLISECONDS,
        new SynchronousQueue<>(), r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        });
  }

  /** Runs {@code task} on a thread of its own, in the calling step's metrics. */
  public Future<?> submit(Runnable task) {
    return threads.submit(inCallersStep(() -> {
      task.run();
      return null;
    }));
  }

  /**
   * {@code call} applied to every item side by side (one item: on this thread), results in the
   * items' order. The first failure stops the others and is rethrown.
   */
  public <T, R> List<R> map(List<T> items, Function<T, R> call) {
    if (items.size() == 1) {
      return Collections.singletonList(call.apply(items.get(0))); // the result may be null
    }
    List<R> results = new ArrayList<>(items.size());
    List<Future<R>> running = new ArrayList<>(items.size());
    for (T item : items) {
      running.add(threads.submit(inCallersStep(() -> call.apply(item))));
    }
    try {
      for (Future<R> result : running) {
        results.add(result.get());
      }
      return results;
    } catch (ExecutionException e) {
      running.forEach(f -> f.cancel(true));
      throw failure(e);
    } catch (InterruptedException e) {
      running.forEach(f -> f.cancel(true));
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while calling the source", e);
    }
  }

  /**
   * {@code tasks} run side by side, each handing items to this thread through a queue of {@code
   * capacity} (a task waits while it is full), where {@code drain} takes them: Beam allows output on
   * the processing thread only. {@code drain} gets each item with the items already waiting behind
   * it, which it may take too (to join them). Returns when every task has ended and its items were
   * drained; the first task that fails stops the others, and its failure is rethrown here. Tasks
   * stopped from outside ({@link #close} while it waits: a step torn down under its element) end
   * it with an {@link IllegalStateException}, where it would have waited for them for ever.
   */
  public <T> void handOver(List<Consumer<Consumer<T>>> tasks, int capacity, BiConsumer<T, Queue<T>> drain) {
    BlockingQueue<Object> queue = new ArrayBlockingQueue<>(Math.max(1, capacity));
    List<Future<?>> running = new ArrayList<>();
    try {
      for (Consumer<Consumer<T>> task : tasks) {
        running.add(submit(() -> {
          Object end = ENDED;
          try {
            task.accept(item -> {
              try {
                queue.put(item);
              } catch (InterruptedException e) { // stopped: another task failed, or this thread's caller
                Thread.currentThread().interrupt();
                throw new IllegalStateException(name + " stopped", e);
              }
            });
          } catch (RuntimeException | Error e) {
            end = new Failed(e);
            throw e;
          } finally {
            try {
              queue.put(end);
            } catch (InterruptedException e) { // stopped: nobody takes it
              Thread.currentThread().interrupt();
            }
          }
        }));
      }
      Queue<T> waiting = new ArrayDeque<>();
      List<Object> taken = new ArrayList<>();
      for (int ended = 0; ended < running.size(); ) {
        Object next = queue.poll(STOPPED_CHECK_MILLIS, TimeUnit.MILLISECONDS);
        if (next == null) {
          // A task queues its end before its future is done: all done, nothing queued, and ends
          // missing means tasks stopped (interrupted, as close() does) before they could say so.
          if (running.stream().allMatch(Future::isDone) && queue.isEmpty()) {
            throw new IllegalStateException(name + " stopped: its threads were stopped before their tasks ended");
          }
          continue;
        }
        taken.add(next);
        queue.drainTo(taken);
        for (Object item : taken) {
          if (item instanceof Failed failed) {
            if (failed.cause() instanceof Error error) {
              throw error;
            }
            throw (RuntimeException) failed.cause();
          }
          if (item == ENDED) {
            ended++;
          } else {
            @SuppressWarnings("unchecked") T t = (T) item;
            waiting.add(t);
          }
        }
        taken.clear();
        for (T item = waiting.poll(); item != null; item = waiting.poll()) {
          drain.accept(item, waiting);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + name, e);
    } finally {
      running.forEach(task -> task.cancel(true));
    }
  }

  /** A task's failure, in the queue of {@link #handOver}. */
  private record Failed(Throwable cause) {}

  /** What a call that failed on another thread threw, to rethrow on this one. */
  public static RuntimeException failure(ExecutionException e) {
    return e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
  }

  /** {@code task}, to run on another thread in the metrics of the step calling this. */
  private static <V> Callable<V> inCallersStep(Callable<V> task) {
    // The thread's container, read by swapping it out and back: getCurrentContainer() logs a
    // warning with a stack trace outside a step, where discovery runs.
    MetricsContainer metrics = MetricsEnvironment.setCurrentContainer(null);
    MetricsEnvironment.setCurrentContainer(metrics);
    return () -> {
      try (Closeable scope = metrics == null ? () -> { } : MetricsEnvironment.scopedMetricsContainer(metrics)) {
        return task.call();
      }
    };
  }

  @Override
  public void close() {
    threads.shutdownNow();
  }
}
