package com.example.connector.continuous;

/**
 * A stop asked of a continuous run in this JVM (Ctrl-C, SIGTERM): the committers then commit what
 * they hold, cursors included, at their next tick, and the run ends after that final commit. Only
 * runners that run the pipeline in the launching JVM (DirectRunner, Flink embedded) see it; a
 * cluster job is stopped with the runner's own tools (Flink stop-with-savepoint, Dataflow drain).
 */
public final class StopSignal {
  private static volatile boolean requested;

  private StopSignal() {}

  public static void request() {
    requested = true;
  }

  public static boolean requested() {
    return requested;
  }

  /** Clears a stop asked before (a test that runs several continuous runs in one JVM). */
  public static void reset() {
    requested = false;
  }
}
