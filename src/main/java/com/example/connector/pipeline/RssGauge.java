package com.example.connector.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The process's peak resident set over one benchmark run, by sampling {@code VmRSS} every 10 ms:
 * {@code VmHWM} is the peak over the whole process's life, so it cannot tell one run from the
 * runs before it. 0 where {@code /proc} is not there.
 */
final class RssGauge {
  private static final long SAMPLE_MILLIS = 10;
  private static final Path STATUS = Path.of("/proc/self/status");

  private final AtomicLong peak = new AtomicLong();

  private RssGauge() {}

  /** Samples from now until the process ends. */
  static RssGauge start() {
    RssGauge gauge = new RssGauge();
    Thread sampler = new Thread(gauge::sampleForever, "rss-sampler");
    sampler.setDaemon(true);
    sampler.start();
    return gauge;
  }

  /** Forgets the peak so far: what follows is measured on its own, from the resident set now. */
  void reset() {
    peak.set(rssNow());
  }

  /** The largest resident set sampled since the last {@link #reset}, in bytes. */
  long peak() {
    return peak.get();
  }

  private void sampleForever() {
    while (true) {
      peak.accumulateAndGet(rssNow(), Math::max);
      try {
        Thread.sleep(SAMPLE_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static long rssNow() {
    return rss(STATUS);
  }

  /** Another process's resident set now, in bytes (a benchmark's child JVM); 0 if it is gone or not Linux. */
  static long rssOf(long pid) {
    return rss(Path.of("/proc", Long.toString(pid), "status"));
  }

  private static long rss(Path status) {
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException e) {
      // not Linux, or the process ended: report 0
    }
    return 0;
  }
}
