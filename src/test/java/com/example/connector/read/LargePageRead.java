package com.example.connector.read;

import com.example.connector.catalog.FieldType;
import com.example.connector.catalog.IngestionType;
import com.example.connector.catalog.RecordSchemas.RunStamp;
import com.example.connector.catalog.SourceField;
import com.example.connector.catalog.TableDescriptor;
import com.example.connector.catalog.Timestamps;
import com.example.connector.client.Password;
import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.range.ByteKeyRange;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.DoFn.OutputReceiver;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;

/**
 * Run by {@link LargePageMemoryTest} in a child JVM with a small heap: reads the table of
 * {@link Read} {@code args[1]} at {@code args[0]} with its real read DoFn (client, reader, rows)
 * in one call, and prints {@code records N outputs M largest L}.
 */
public final class LargePageRead {
  private LargePageRead() {}

  /** A read of one huge page: its table, the page's records, and its DoFn's one call. */
  enum Read {
    /** The {@code users} feed, by {@link ReadCursorFn}: {@value #TIES} records per cursor value. */
    CURSOR {
      @Override
      TableDescriptor table() {
        return new TableDescriptor(
            "users",
            List.of(SourceField.of("user_id", FieldType.STRING, false), SourceField.of("email", FieldType.STRING, true),
                SourceField.of("display_name", FieldType.STRING, true), SourceField.of("status", FieldType.STRING, true),
                SourceField.of("updated_at", FieldType.TIMESTAMP, true)),
            List.of("user_id"), "updated_at", "user_id", IngestionType.CDC);
      }

      @Override
      String record(int i) {
        return "{\"user_id\": \"user_" + String.format("%07d", i) + "\", \"email\": \"user" + i
            + "@example.com\", \"display_name\": \"User number " + i + "\", \"status\": \"active\", \"updated_at\": \""
            + Timestamps.formatMicros(BASE + (i / TIES) * 1_000_000L) + "\"}";
      }

      @Override
      void process(ReadContext context, OutputReceiver<List<GenericRecord>> out) {
        long cap = Timestamps.toMicros(Instant.parse("2100-01-01T00:00:00Z"));
        CursorFeed feed = new CursorFeed("users", false, Map.of(), 0L, null, cap, Integer.MAX_VALUE, "upsert", null);
        ReadCursorFn fn = new ReadCursorFn(context);
        fn.setup();
        try {
          FeedRanges element = new FeedRanges(feed, List.of(new OffsetRange(0, cap)));
          fn.process(element, fn.newTracker(element.restriction()), out);
        } finally {
          fn.teardown();
        }
      }
    },
    /** The {@code products} snapshot, by {@link ReadSnapshotPagesFn}, from its initial restriction. */
    SNAPSHOT {
      @Override
      TableDescriptor table() {
        return new TableDescriptor(
            "products",
            List.of(SourceField.of("product_id", FieldType.STRING, false), SourceField.of("name", FieldType.STRING, true),
                SourceField.of("price", FieldType.DOUBLE, true), SourceField.of("category", FieldType.STRING, true)),
            List.of("product_id"), null, "product_id", IngestionType.SNAPSHOT);
      }

      @Override
      String record(int i) {
        return "{\"product_id\": \"prod_" + String.format("%07d", i) + "\", \"name\": \"Product number " + i
            + "\", \"price\": " + (10 + i % 1000) + ".5, \"category\": \"books\"}";
      }

      @Override
      void process(ReadContext context, OutputReceiver<List<GenericRecord>> out) {
        ReadSnapshotPagesFn fn = new ReadSnapshotPagesFn(context);
        fn.setup();
        try {
          ReadSnapshotPagesFn.PageKeysTracker tracker = new ReadSnapshotPagesFn.PageKeysTracker(
              new ReadSnapshotPagesFn.KeyRange(ByteKeyRange.ALL_KEYS, 1));
          fn.readRange(new SnapshotRead("products", Map.of()), tracker, out, () -> false);
          tracker.checkDone();
        } finally {
          fn.teardown();
        }
      }
    };

    static final int TIES = 4;
    static final long BASE = Timestamps.toMicros(Instant.parse("2024-01-01T00:00:00Z"));

    abstract TableDescriptor table();

    /** The page's {@code i}-th record, as JSON: keys (and cursors) ascend with {@code i}. */
    abstract String record(int i);

    abstract void process(ReadContext context, OutputReceiver<List<GenericRecord>> out);
  }

  public static void main(String[] args) {
    Read read = Read.valueOf(args[1]);
    SourceConfig source = new SourceConfig(URI.create(args[0]), "u", Password.inline("p"), RetryPolicy.DEFAULT);
    TableDescriptor table = read.table();
    long[] counts = new long[3]; // records, outputs, largest output
    OutputReceiver<List<GenericRecord>> out = new OutputReceiver<>() {
      @Override
      public void output(List<GenericRecord> rows) {
        counts[0] += rows.size();
        counts[1]++;
        counts[2] = Math.max(counts[2], rows.size());
      }

      @Override
      public void outputWithTimestamp(List<GenericRecord> rows, org.joda.time.Instant timestamp) {
        output(rows);
      }
    };
    read.process(new ReadContext(source, table, new RunStamp("run", 0), table.name()), out);
    System.out.println("records " + counts[0] + " outputs " + counts[1] + " largest " + counts[2]);
  }
}
