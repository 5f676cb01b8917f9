package com.example.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * How much heap a benchmark used, measured one way for every benchmark here: the peak is the
 * largest heap occupancy sampled every 10 ms (garbage included), the live peak the largest
 * occupancy right after a collection (what survived it). Not the sum of the heap pools' own peaks:
 * each pool peaks at another moment, so their sum overstates what the heap ever held.
 *
 * <p>In a package of its own so that the source's and the connector's benchmarks can share it
 * without the simulated source depending on the connector or carrying benchmark code.
 */
public final class HeapGauge {
  private static final long SAMPLE_MILLIS = 10;

  private final AtomicLong peakUsed = new AtomicLong();
  private final AtomicLong peakLive = new AtomicLong();
  private Thread sampler;

  private HeapGauge() {}

  /** Samples the heap and watches every collection from now until the process ends. */
  public static HeapGauge start() {
    HeapGauge gauge = new HeapGauge();
    gauge.watchCollections();
    gauge.sample();
    return gauge;
  }

  /**
   * Collects, forgets the peaks so far (what follows is measured on its own), and returns the
   * heap occupancy right after that collection.
   */
  public long reset() throws InterruptedException {
    System.gc();
    Thread.sleep(200); // the collection's notification arrives on another thread
    long afterCollection = usedNow();
    peakLive.set(0);
    peakUsed.set(0);
    return afterCollection;
  }

  /** The largest heap occupancy sampled since {@link #start} or the last {@link #reset}. */
  public long peakUsed() {
    return peakUsed.get();
  }

  /** The largest heap occupancy after a collection since {@link #start} or the last {@link #reset}. */
  public long peakLive() {
    return peakLive.get();
  }

  private static long usedNow() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /**
   * The CPU time the sampling thread has used: what the gauge adds to the process it measures
   * (about 2% of a core with C1-compiled code), for a benchmark to leave out of the CPU it reports.
   */
  public long samplerCpuNanos() {
    return Math.max(0, ManagementFactory.getThreadMXBean().getThreadCpuTime(sampler.getId()));
  }

  private void sample() {
    sampler = new Thread(() -> {
      while (true) {
        peakUsed.accumulateAndGet(usedNow(), Math::max);
        try {
          Thread.sleep(SAMPLE_MILLIS);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "heap-sampler");
    sampler.setDaemon(true);
    sampler.start();
  }

  private void watchCollections() {
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ((NotificationEmitter) gc).addNotificationListener((notification, handback) -> {
        if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
          peakLive.accumulateAndGet(heapAfter(
              GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData())), Math::max);
        }
      }, null, null);
    }
  }

  /** The heap pools' occupancy right after the collection {@code info} tells of. */
  private static long heapAfter(GarbageCollectionNotificationInfo info) {
    long live = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      MemoryUsage after = info.getGcInfo().getMemoryUsageAfterGc().get(pool.getName());
      if (pool.getType() == MemoryType.HEAP && after != null) {
        live += after.getUsed();
      }
    }
    return live;
  }
}
