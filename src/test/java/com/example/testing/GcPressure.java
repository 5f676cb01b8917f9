package com.example.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Stress mode ({@code mvn test -DgcPressure=true}): a full GC every 50 ms in each test JVM, which
 * shifts the runners' threads against each other and shakes out scheduling races that a quiet
 * machine rarely shows (it made the DirectRunner's hang on an empty side input appear within
 * minutes). Off by default; registered for every test class through JUnit's extension
 * autodetection ({@code junit-platform.properties}).
 */
public class GcPressure implements BeforeAllCallback {
  private static Thread collector;

  @Override
  public synchronized void beforeAll(ExtensionContext context) {
    if (collector == null && Boolean.getBoolean("gcPressure")) {
      collector = new Thread(GcPressure::collect, "gc-pressure");
      collector.setDaemon(true);
      collector.start();
    }
  }

  private static void collect() {
    try {
      while (true) {
        System.gc();
        Thread.sleep(50);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
