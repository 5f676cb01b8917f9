package com.example.connector.read;

import com.example.connector.Groups;
import java.util.List;
import org.apache.beam.sdk.values.KV;

/**
 * The first step of a {@link ReadSpread}: cuts each read into ranges by probing the source, and
 * deals them into up to {@value ReadSpread#GROUPS} groups, each output keyed by its index for the
 * reshuffle that spreads them over workers. Dealt, not cut in runs, so that every group spans the
 * whole read. The probes run once per read, here.
 *
 * <p>A group holds up to the connection's call budget of ranges, and there are only as many groups
 * as that takes: one group's lanes keep the whole budget busy, while each group more is one that a
 * worker may be given after another and read after it, waiting the calls' latency again (Flink
 * placed four groups on its two subtasks 2:2, 3:1 or 4:0 at random).
 */
public abstract class SplitRangesFn<ReadT, RangeT, GroupT> extends SourceCallsFn<ReadT, KV<Integer, GroupT>> {
  protected SplitRangesFn(ReadContext context) {
    super(context, "source probes");
  }

  @ProcessElement
  public void process(@Element ReadT read, OutputReceiver<KV<Integer, GroupT>> out) {
    List<RangeT> ranges = split(read);
    List<List<RangeT>> groups = Groups.deal(ranges, groups(ranges.size(), context.source().maxConcurrentRequests()));
    for (int group = 0; group < groups.size(); group++) {
      out.output(KV.of(group, group(read, groups.get(group))));
    }
  }

  /** How many groups {@code ranges} are dealt into: up to {@code budget} ranges each. */
  static int groups(int ranges, int budget) {
    return Math.min(ReadSpread.GROUPS, Math.max(1, (ranges + budget - 1) / budget));
  }

  /**
   * As many ranges per group as the connection may have calls in flight: one worker thread
   * reading one group ({@link Lanes}) can keep the whole call budget busy.
   */
  int maxRanges() {
    return ReadSpread.GROUPS * context.source().maxConcurrentRequests();
  }

  /** The read's ranges, in order; together exactly what it reads. */
  abstract List<RangeT> split(ReadT read);

  /** One group of the read's ranges, as the read DoFn's element. */
  abstract GroupT group(ReadT read, List<RangeT> ranges);
}
