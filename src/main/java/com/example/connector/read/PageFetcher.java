package com.example.connector.read;

import com.example.connector.client.ExampleClient;
import com.example.connector.client.ExampleClient.RecordHandler;
import com.example.connector.client.PageEnd;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.apache.beam.sdk.metrics.Counter;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How every read requests a page (issue 15.14: one place for the cursor and snapshot reads): the
 * read's own parameters (filters, {@code limit}) with the request's ({@code page}, {@code since},
 * {@code until}) over them, the endpoint (records or tombstones), and the table's {@code pages}
 * counter.
 */
final class PageFetcher {
  private final ExampleClient client;
  private final String table;
  private final boolean tombstones;
  private final Map<String, String> params;
  private final @Nullable Counter pages;

  /** {@code pages} null: requests are not pages of the read (planning its initial restriction). */
  PageFetcher(
      ExampleClient client, String table, boolean tombstones, Map<String, String> params, @Nullable Counter pages) {
    this.client = client;
    this.table = table;
    this.tombstones = tombstones;
    this.params = Map.copyOf(params);
    this.pages = pages;
  }

  static PageFetcher of(ExampleClient client, CursorFeed feed, @Nullable Counter pages) {
    return new PageFetcher(client, feed.table(), feed.tombstones(), feed.params(), pages);
  }

  static PageFetcher of(ExampleClient client, SnapshotRead read, Counter pages) {
    return new PageFetcher(client, read.table(), false, read.params(), pages);
  }

  /** Streams one page to {@code handler}, counted as a page of the read. */
  PageEnd fetch(Map<String, String> request, RecordHandler handler) {
    Map<String, String> all = new HashMap<>(params);
    all.putAll(request);
    if (pages != null) {
      pages.inc();
    }
    return tombstones ? client.deletedRecords(table, all, handler) : client.records(table, all, handler);
  }

  /**
   * What {@code view} makes of the page's first record, or null if the page is empty; the rest of
   * the page is not downloaded (probes need only where a page starts).
   */
  <T> @Nullable T first(Map<String, String> request, Function<ObjectNode, T> view) {
    FirstRecord<T> first = new FirstRecord<>(view);
    fetch(request, first);
    return first.value;
  }

  private static final class FirstRecord<T> implements RecordHandler {
    private final Function<ObjectNode, T> view;
    private @Nullable T value;

    FirstRecord(Function<ObjectNode, T> view) {
      this.view = view;
    }

    @Override
    public boolean record(ObjectNode record) {
      value = view.apply(record);
      return false;
    }

    @Override
    public void restart() {
      value = null;
    }
  }
}
