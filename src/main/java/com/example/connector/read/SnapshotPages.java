package com.example.connector.read;

import com.example.connector.catalog.TableDescriptor;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.ExampleClient.RecordHandler;
import com.example.connector.client.PageEnd;
import com.example.connector.ParallelCalls;
import com.example.connector.read.ReadSnapshotPagesFn.KeyRange;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.beam.sdk.io.range.ByteKey;
import org.apache.beam.sdk.io.range.ByteKeyRange;
import org.apache.beam.sdk.metrics.Counter;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The pages of a snapshot table as its read sees them: where they start (probes that read only a
 * page's first record), how a table is cut into key ranges of similar size, a page streamed
 * whole, and a record's primary key as a restriction position (its UTF-16BE bytes, whose unsigned
 * byte order is Java's {@code String.compareTo} order, the order the simulated source sorts by).
 * Used by {@link SplitSnapshotFn} to cut and by {@link ReadSnapshotPagesFn} to read.
 */
final class SnapshotPages {
  private final ExampleClient client;
  private final ParallelCalls parallel;
  private final Counter pages;
  private final String keyField;
  /** The empty string's key ({@link #keyOf}). */
  private static final ByteKey EMPTY_STRING = ByteKey.of(0);

  /** @param keyField the table's one primary key ({@link #keyField(TableDescriptor)}) */
  SnapshotPages(ExampleClient client, ParallelCalls parallel, Counter pages, String keyField) {
    this.client = client;
    this.parallel = parallel;
    this.pages = pages;
    this.keyField = keyField;
  }

  /**
   * Every key, cut at the first keys of up to {@code maxRanges} - 1 evenly spaced pages (at least
   * {@code minPages} pages per range) into ranges in key order, each with the page it was cut at.
   * The page count takes about {@code 1 + log8 n} rounds of probes made side by side ({@link
   * PageSearch}), the cuts one more round.
   */
  List<KeyRange> ranges(SnapshotRead read, int maxRanges, int minPages) {
    long count = lastPage(read, 1, key -> true);
    List<Long> cutPages = PageSearch.cutPages(count, maxRanges, minPages);
    List<ByteKey> keys = parallel.map(cutPages, page -> firstKey(read, page)); // one round of calls
    List<KeyRange> ranges = new ArrayList<>();
    ByteKey from = ByteKey.EMPTY;
    long fromPage = 1;
    for (int i = 0; i < cutPages.size(); i++) {
      ByteKey key = keys.get(i);
      if (key != null && key.compareTo(from) > 0) {
        ranges.add(new KeyRange(ByteKeyRange.of(from, key), fromPage));
        from = key;
        fromPage = cutPages.get(i);
      }
    }
    ranges.add(new KeyRange(ByteKeyRange.of(from, ByteKey.EMPTY), fromPage));
    return ranges;
  }

  /**
   * A reader's first page for {@code range}: its page (whose first key the reader checks as it
   * reads it), or for a range to {@link KeyRange#search} from there, the last page whose first
   * key is at most the range's start. A range from the first key starts at its page, 1.
   */
  long firstPage(SnapshotRead read, KeyRange range) {
    ByteKey start = range.keys().getStartKey();
    return start.isEmpty() || !range.search() ? range.fromPage() : lastPageFrom(read, range.fromPage(), start);
  }

  /** The last page from {@code from} (taken to start at or before {@code key}) whose first key is at most {@code key}. */
  long lastPageFrom(SnapshotRead read, long from, ByteKey key) {
    return lastPage(read, from, first -> first.compareTo(key) <= 0);
  }

  /**
   * The last page from {@code from} (taken to hold, unread) whose first key {@code holds} (true
   * for a prefix of the pages from there; an empty page never does), by {@link PageSearch}.
   */
  private long lastPage(SnapshotRead read, long from, Predicate<ByteKey> holds) {
    return PageSearch.lastHolding(from, page -> {
      ByteKey key = firstKey(read, page);
      return key != null && holds.test(key);
    }, parallel);
  }

  /** The first key of page {@code number}, or null if it is empty; the rest is not downloaded. */
  @Nullable
  private ByteKey firstKey(SnapshotRead read, long number) {
    return PageFetcher.of(client, read, pages)
        .first(Map.of("page", Long.toString(number)), record -> keyOf(read, number, record));
  }

  /** Streams page {@code number} to {@code handler}. */
  PageEnd fetch(SnapshotRead read, long number, RecordHandler handler) {
    return PageFetcher.of(client, read, pages).fetch(Map.of("page", Long.toString(number)), handler);
  }

  /** The record's primary key as a restriction position: UTF-16BE bytes order as String does. */
  ByteKey keyOf(SnapshotRead read, long number, ObjectNode record) {
    JsonNode key = record.get(keyField);
    if (key == null || !key.isTextual()) {
      throw incomplete(read, number, "has a record whose " + keyField + " is not a string: " + key);
    }
    byte[] bytes = key.textValue().getBytes(StandardCharsets.UTF_16BE);
    // An empty key would be ByteKey.EMPTY, which a tracker takes as the end of the range (its rows
    // went unread, the range done): one zero byte sorts above it and below every other key.
    return bytes.length == 0 ? EMPTY_STRING : ByteKey.copyFrom(bytes);
  }

  String keyField() {
    return keyField;
  }

  static String text(ByteKey key) {
    return key.equals(EMPTY_STRING) ? "" : new String(key.getBytes(), StandardCharsets.UTF_16BE);
  }

  IllegalStateException incomplete(SnapshotRead read, long page, String what) {
    return new IllegalStateException(
        "The snapshot of '" + read.table() + "' cannot be proven complete: page " + page + " " + what
            + ". A snapshot read needs every page sorted by " + keyField + " (Java String order)"
            + " and rows only inserted, as the source API documents; the run stops rather than take"
            + " rows it did not see as deleted.");
  }

  /** The one primary key a snapshot table is sorted by (the source's, not a merge override). */
  static String keyField(TableDescriptor table) {
    if (table.primaryKeys().size() != 1) {
      throw new IllegalArgumentException(
          "Table '" + table.name() + "' has no cursor field, so it is read as a snapshot in the"
              + " order of its primary key, but the source's metadata lists primary keys "
              + table.primaryKeys() + "; a snapshot read needs exactly one.");
    }
    return table.primaryKeys().get(0);
  }
}
