package com.example.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident sets read from {@code /proc}: another process's now (a benchmark's child JVM, sampled
 * while it runs) and this process's peak over its life ({@code VmHWM}: a child run measures itself
 * from its start). 0 where {@code /proc} is not there.
 */
final class RssGauge {
  private RssGauge() {}

  /** This process's largest resident set since it started, in bytes. */
  static long peakOfThisProcess() {
    return read(Path.of("/proc/self/status"), "VmHWM:");
  }

  /** Another process's resident set now, in bytes (a benchmark's child JVM); 0 if it is gone or not Linux. */
  static long rssOf(long pid) {
    return read(Path.of("/proc", Long.toString(pid), "status"), "VmRSS:");
  }

  private static long read(Path status, String field) {
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException e) {
      // not Linux, or the process ended: report 0
    }
    return 0;
  }
}
