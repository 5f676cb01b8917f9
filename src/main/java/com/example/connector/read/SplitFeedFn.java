package com.example.connector.read;

import com.example.connector.client.ExampleClient;
import java.util.List;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;

/**
 * Cuts each feed's run {@code [from, cap)} ({@link CursorRanges#initial}) into sub-ranges of
 * about equal record counts, found by probing ({@link CursorRanges#byRecords}; a windowed feed's
 * on window boundaries). Each is output keyed by its index, for the reshuffle that spreads them
 * over workers.
 *
 * <p>A plain DoFn rather than the read's {@code @SplitRestriction}: where a runner places the
 * splits of one element is up to its Splittable DoFn expansion (one Flink batch subtask was seen
 * reading all of a table's windows), while elements behind a reshuffle are spread on every
 * runner. The probes run once per feed, here.
 */
public final class SplitFeedFn extends DoFn<CursorFeed, KV<Integer, FeedRange>> {
  private final ReadContext context;
  private final TableCalls calls;
  private transient ExampleClient client;

  public SplitFeedFn(ReadContext context) {
    this.context = context;
    this.calls = new TableCalls(context);
  }

  @Setup
  public void setup() {
    client = calls.open();
  }

  @Teardown
  public void teardown() {
    if (client != null) {
      client.close();
    }
  }

  @ProcessElement
  public void process(@Element CursorFeed feed, OutputReceiver<KV<Integer, FeedRange>> out) {
    List<OffsetRange> pieces = split(feed);
    for (int i = 0; i < pieces.size(); i++) {
      OffsetRange piece = pieces.get(i);
      out.output(KV.of(i, new FeedRange(feed, piece.getFrom(), piece.getTo())));
    }
  }

  /** The feed's sub-ranges, in cursor order; together exactly its run {@code [from, cap)}. */
  List<OffsetRange> split(CursorFeed feed) {
    String cursorField = context.table().cursorField();
    OffsetRange run = CursorRanges.initial(client, feed, cursorField);
    return CursorRanges.byRecords(client, feed, cursorField, run, calls.pages());
  }
}
