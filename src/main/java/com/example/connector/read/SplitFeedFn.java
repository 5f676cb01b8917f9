package com.example.connector.read;

import com.example.connector.Groups;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.ParallelCalls;
import java.util.List;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;

/**
 * Cuts each feed's run {@code [from, cap)} ({@link CursorRanges#initial}) into sub-ranges of
 * about equal record counts, found by probing ({@link CursorRanges#byRecords}; a windowed feed's
 * on window boundaries), and deals them into up to {@value #GROUPS} groups: one worker reads a
 * group's ranges side by side ({@link FeedRangeReadFn}), so one group keeps several calls in
 * flight, and the groups spread the feed over workers (with dynamic splitting, on Dataflow, over
 * more). Dealt, not cut in runs, so that every group spans the whole feed. Each group is output
 * keyed by its index, for the reshuffle that spreads them over workers.
 *
 * <p>A plain DoFn rather than the read's {@code @SplitRestriction}: where a runner places the
 * splits of one element is up to its Splittable DoFn expansion (one Flink batch subtask was seen
 * reading all of a table's windows), while elements behind a reshuffle are spread on every
 * runner. The probes run once per feed, here.
 */
public final class SplitFeedFn extends DoFn<CursorFeed, KV<Integer, FeedRanges>> {
  /** Groups per feed: enough for the workers of a small cluster. */
  static final int GROUPS = 4;

  private final ReadContext context;
  private final TableCalls calls;
  private int minPagesPerSplit = CursorRanges.MIN_PAGES_PER_SPLIT;
  private transient ExampleClient client;
  private transient ParallelCalls parallel;

  public SplitFeedFn(ReadContext context) {
    this.context = context;
    this.calls = new TableCalls(context);
  }

  /** Cuts at least {@code pages} pages apart instead; for tests whose feeds hold a few pages. */
  SplitFeedFn cuttingEvery(int pages) {
    this.minPagesPerSplit = pages;
    return this;
  }

  @Setup
  public void setup() {
    client = calls.open();
    parallel = new ParallelCalls("source probes " + context.metricsNamespace());
  }

  @Teardown
  public void teardown() {
    if (parallel != null) {
      parallel.close();
    }
    if (client != null) {
      client.close();
    }
  }

  @ProcessElement
  public void process(@Element CursorFeed feed, OutputReceiver<KV<Integer, FeedRanges>> out) {
    List<List<OffsetRange>> groups = Groups.deal(split(feed), GROUPS);
    for (int group = 0; group < groups.size(); group++) {
      out.output(KV.of(group, new FeedRanges(feed, groups.get(group))));
    }
  }

  /**
   * As many sub-ranges per group as the connection may have calls in flight: one worker thread
   * reading one group can keep the whole call budget busy.
   */
  int maxSplits() {
    return GROUPS * context.source().maxConcurrentRequests();
  }

  /** The feed's sub-ranges, in cursor order; together exactly its run {@code [from, cap)}. */
  List<OffsetRange> split(CursorFeed feed) {
    String cursorField = context.table().cursorField();
    OffsetRange run = CursorRanges.initial(client, feed, cursorField);
    return CursorRanges.byRecords(client, feed, cursorField, run, maxSplits(), minPagesPerSplit, calls.pages(), parallel);
  }
}
