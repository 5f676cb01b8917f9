package com.example.connector.read;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.BigEndianLongCoder;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;

/**
 * What a continuous read delivers, as one element: rows, and the span of the feed they complete.
 *
 * <p>For a cursor feed, every record whose cursor is in {@code [fromMicros, toMicros)} is in
 * {@code rows} (whole tie groups), and no other: a table's committer commits a feed's batches
 * once they cover an unbroken span from its committed cursor, whatever order they arrive in, and
 * commits that span's end as the new cursor. A batch may be empty: it still moves the span on.
 * For a snapshot ({@link #SNAPSHOT}) both are the source's clock when the snapshot's read began,
 * and {@code rows} is the whole table.
 *
 * @param feed {@code records}, {@code deleted_records} or {@value #SNAPSHOT}
 */
public record FeedBatch(String feed, long fromMicros, long toMicros, List<GenericRecord> rows) {
  public static final String SNAPSHOT = "snapshot";

  public FeedBatch {
    rows = List.copyOf(rows);
  }

  /**
   * The batch with its rows in {@code schema}: a row of another schema (one a job resumed from a
   * savepoint restored, read before the source added a column) copied by column name, a column it
   * lacks null. Written or encoded as they are, by position, they fail or shift a column.
   */
  public FeedBatch in(Schema schema) {
    if (rows.isEmpty() || rows.get(0).getSchema().equals(schema)) {
      return this; // a batch's rows are one read's, of one schema
    }
    List<GenericRecord> conformed = new ArrayList<>(rows.size());
    for (GenericRecord row : rows) {
      GenericData.Record copy = new GenericData.Record(schema);
      for (Schema.Field f : schema.getFields()) {
        Schema.Field from = row.getSchema().getField(f.name());
        copy.put(f.pos(), from == null ? null : row.get(from.pos()));
      }
      conformed.add(copy);
    }
    return new FeedBatch(feed, fromMicros, toMicros, conformed);
  }

  /** Encodes the rows with the table's change feed schema. */
  public static final class Coder extends CustomCoder<FeedBatch> {
    private static final StringUtf8Coder FEED = StringUtf8Coder.of();
    private static final BigEndianLongCoder CURSOR = BigEndianLongCoder.of();
    private final Schema schema;
    private final ListCoder<GenericRecord> rows;

    private Coder(AvroCoder<GenericRecord> rowCoder) {
      this.schema = rowCoder.getSchema();
      this.rows = ListCoder.of(rowCoder);
    }

    public static Coder of(AvroCoder<GenericRecord> rowCoder) {
      return new Coder(rowCoder);
    }

    @Override
    public void encode(FeedBatch batch, OutputStream out) throws IOException {
      FEED.encode(batch.feed(), out);
      CURSOR.encode(batch.fromMicros(), out);
      CURSOR.encode(batch.toMicros(), out);
      // Rows of another schema are encoded in this one's (a savepoint's, after a new column).
      rows.encode(batch.in(schema).rows(), out);
    }

    @Override
    public FeedBatch decode(InputStream in) throws IOException {
      return new FeedBatch(FEED.decode(in), CURSOR.decode(in), CURSOR.decode(in), rows.decode(in));
    }

    @Override
    public void verifyDeterministic() throws NonDeterministicException {
      rows.verifyDeterministic();
    }
  }
}
