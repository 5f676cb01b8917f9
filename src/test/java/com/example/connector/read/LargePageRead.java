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
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.DoFn.OutputReceiver;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;

/**
 * Run by {@link LargePageMemoryTest} in a child JVM with a small heap: reads the {@code users}
 * feed at {@code args[0]} with the real read DoFn ({@link ReadCursorFn}: client, reader, rows)
 * in one call, and prints {@code records N outputs M largest L}.
 */
public final class LargePageRead {
  private LargePageRead() {}

  public static void main(String[] args) {
    TableDescriptor users = new TableDescriptor(
        "users",
        List.of(SourceField.of("user_id", FieldType.STRING, false), SourceField.of("email", FieldType.STRING, true),
            SourceField.of("display_name", FieldType.STRING, true), SourceField.of("status", FieldType.STRING, true),
            SourceField.of("updated_at", FieldType.TIMESTAMP, true)),
        List.of("user_id"), "updated_at", "user_id", IngestionType.CDC);
    SourceConfig source = new SourceConfig(URI.create(args[0]), "u", Password.inline("p"), RetryPolicy.DEFAULT);
    long cap = Timestamps.toMicros(Instant.parse("2100-01-01T00:00:00Z"));
    CursorFeed feed = new CursorFeed("users", false, Map.of(), 0L, null, cap, Integer.MAX_VALUE, "upsert", null);
    ReadCursorFn fn = new ReadCursorFn(new ReadContext(source, users, new RunStamp("run", 0), "users"));
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
    fn.setup();
    try {
      fn.process(new FeedRange(feed, 0, cap), new OffsetRangeTracker(new OffsetRange(0, cap)), out);
    } finally {
      fn.teardown();
    }
    System.out.println("records " + counts[0] + " outputs " + counts[1] + " largest " + counts[2]);
  }
}
