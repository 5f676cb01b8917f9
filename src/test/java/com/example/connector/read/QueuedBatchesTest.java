package com.example.connector.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.stream.IntStream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/** The read's outputs join its lanes' small batches, never past {@code max_records_per_batch}. */
class QueuedBatchesTest {
  private static final Schema ROW = SchemaBuilder.record("row").fields().requiredInt("n").endRecord();

  @Test
  void batchesQueuedBehindTheFirstJoinItWhileTheyFit() {
    BlockingQueue<List<GenericRecord>> queued = new ArrayBlockingQueue<>(8);
    queued.add(rows(10, 3));
    queued.add(rows(20, 3));
    queued.add(rows(30, 5));

    List<GenericRecord> joined = Lanes.withQueued(rows(0, 2), queued, 8);

    assertEquals(List.of(0, 1, 10, 11, 12, 20, 21, 22), numbers(joined), "2 + 3 + 3 rows: the next 5 would pass 8");
    assertEquals(List.of(30, 31, 32, 33, 34), numbers(queued.peek()), "left for the next output");
  }

  @Test
  void aBatchThatFillsTheLimitOrHasNothingBehindItLeavesAsItIs() {
    List<GenericRecord> full = rows(0, 8);
    BlockingQueue<List<GenericRecord>> queued = new ArrayBlockingQueue<>(8);
    queued.add(rows(10, 1));
    assertSame(full, Lanes.withQueued(full, queued, 8));
    assertEquals(1, queued.size());

    List<GenericRecord> alone = rows(0, 2);
    assertSame(alone, Lanes.withQueued(alone, new ArrayBlockingQueue<>(1), 8));
  }

  private static List<GenericRecord> rows(int first, int count) {
    return IntStream.range(first, first + count).mapToObj(n -> {
      GenericRecord row = new GenericData.Record(ROW);
      row.put("n", n);
      return row;
    }).toList();
  }

  private static List<Integer> numbers(List<GenericRecord> rows) {
    return rows.stream().map(r -> (Integer) r.get("n")).toList();
  }
}
