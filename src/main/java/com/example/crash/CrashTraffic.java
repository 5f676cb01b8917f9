package com.example.crash;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The crash trials' writes to the source, over HTTP ({@link SourceHttp}), in rounds: an update of
 * a user, an update of an order, a new event; every second round an order deleted, every fourth a
 * new user and a new order. Run a few rounds at a time ({@link #rounds}), or on a thread of their
 * own for as long as a continuous run is being killed ({@link #start}, {@link #stop}).
 *
 * <p>Keeps what the source answered, the record the tables are checked against besides its current
 * rows: each user's and order's versions (its seed row, then what was written, stamped by the
 * source) and the tombstones of the deleted orders. A user is written at most once (an update of a seed user, or a
 * new user): a read sees only a key's latest version, so a second write while no run reads (a child
 * being restarted) would hide the first from every run, and SCD type 2 history could not be
 * expected to hold it.
 */
final class CrashTraffic implements AutoCloseable {
  /** The pause between two rounds on the thread: about 20 writes a second. */
  static final Duration ROUND_EVERY = Duration.ofMillis(200);

  private final SourceHttp source;
  private final Random random;
  /** Seed users not written yet, every user (for orders' user_id), the orders not deleted. */
  private final List<String> unwrittenUsers = new ArrayList<>();
  private final List<String> users = new ArrayList<>();
  private final List<String> orders = new ArrayList<>();
  private final Map<String, List<ObjectNode>> userVersions = new TreeMap<>();
  private final Map<String, List<ObjectNode>> orderVersions = new TreeMap<>();
  private final Map<String, ObjectNode> tombstones = new TreeMap<>();
  private final long seedNewestMicros;
  private long serial;
  private Instant lastWrite = Instant.EPOCH;
  private Thread thread;
  private volatile boolean stopping;
  private volatile RuntimeException failure;

  /** Reads the seed (nothing may write yet). */
  CrashTraffic(SourceHttp source, Random random) {
    this.source = source;
    this.random = random;
    long newest = Long.MIN_VALUE;
    for (ObjectNode user : source.rows("users")) {
      String key = user.get("user_id").asText();
      users.add(key);
      unwrittenUsers.add(key);
      userVersions.put(key, new ArrayList<>(List.of(user)));
      newest = Math.max(newest, CrashCheck.micros(user.get("updated_at")));
    }
    for (ObjectNode order : source.rows("orders")) {
      orders.add(order.get("order_id").asText());
      orderVersions.put(order.get("order_id").asText(), new ArrayList<>(List.of(order)));
      newest = Math.max(newest, CrashCheck.micros(order.get("updated_at")));
    }
    for (ObjectNode event : source.rows("events")) {
      newest = Math.max(newest, CrashCheck.micros(event.get("created_at")));
    }
    this.seedNewestMicros = newest;
  }

  /** The newest cursor value of the seed rows: a table whose cursors are past it has read the whole seed. */
  long seedNewestMicros() {
    return seedNewestMicros;
  }

  /** Every version of each user: the seed's, then the one written, if any. */
  Map<String, List<ObjectNode>> userVersions() {
    return userVersions;
  }

  /** Every version of each order: the seed's, then each written (one a read may never see: an order is written again). */
  Map<String, List<ObjectNode>> orderVersions() {
    return orderVersions;
  }

  /** The deleted orders' tombstones, by key. */
  Map<String, ObjectNode> tombstones() {
    return tombstones;
  }

  /** When the last write was answered (the source stamps writes with this JVM's clock). */
  Instant lastWrite() {
    return lastWrite;
  }

  /** Writes {@code n} rounds on this thread. */
  void rounds(int n) {
    for (int i = 0; i < n; i++) {
      round();
    }
  }

  /** Writes rounds on a thread of their own, {@link #ROUND_EVERY} apart, until {@link #stop}. */
  void start() {
    thread = new Thread(() -> {
      try {
        while (!stopping) {
          round();
          Thread.sleep(ROUND_EVERY.toMillis());
        }
      } catch (InterruptedException e) {
        // stopped
      } catch (RuntimeException e) {
        failure = e;
      }
    }, "crash-traffic");
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops the thread after its round; throws what ended it early, if anything did. */
  void stop() throws InterruptedException {
    close();
    if (failure != null) {
      throw new IllegalStateException("the traffic failed after " + serial + " rounds", failure);
    }
  }

  /** Stops the thread after its round, whatever ended it (a trial that failed otherwise). */
  @Override
  public void close() throws InterruptedException {
    stopping = true;
    if (thread != null) {
      thread.join();
    }
  }

  /** How many rounds were written. */
  long roundsWritten() {
    return serial;
  }

  private void round() {
    serial++;
    if (!unwrittenUsers.isEmpty()) {
      String key = unwrittenUsers.remove(random.nextInt(unwrittenUsers.size()));
      userVersions.get(key).add(source.upsert("users", Map.of("user_id", key, "email", "u" + serial + "@example.com",
          "status", random.nextBoolean() ? "active" : "inactive")));
    }
    String order = pick(orders);
    orderVersions.get(order).add(source.upsert("orders", Map.of("order_id", order, "user_id", pick(users),
        "amount", random.nextInt(100_000) / 100.0, "status", "shipped")));
    if (serial % 4 == 0) {
      String user = "user_new_" + serial;
      users.add(user);
      userVersions.put(user, new ArrayList<>(List.of(
          source.upsert("users", Map.of("user_id", user, "email", "new" + serial + "@example.com")))));
      orders.add("order_new_" + serial);
      orderVersions.put("order_new_" + serial, new ArrayList<>(List.of(
          source.upsert("orders", Map.of("order_id", "order_new_" + serial, "amount", 1.0, "status", "created")))));
    }
    if (serial % 2 == 0) {
      String key = orders.remove(random.nextInt(orders.size()));
      tombstones.put(key, source.delete("orders", key));
    }
    source.upsert("events", Map.of("event_id", new UUID(0xC4A5L, serial).toString(), "event_type", "trial"));
    lastWrite = Instant.now();
  }

  private String pick(List<String> keys) {
    return keys.get(random.nextInt(keys.size()));
  }
}
