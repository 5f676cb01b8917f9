package com.example.connector.read;

import com.example.connector.Groups;
import java.util.List;
import org.apache.beam.sdk.values.KV;

/**
 * The first step of a {@link ReadSpread}: cuts each read into ranges by probing the source, and
 * deals them into up to {@value ReadSpread#GROUPS} groups, each output keyed by its index for the
 * reshuffle that spreads them over workers. Dealt, not cut in runs, so that every group spans the
 * whole read. The probes run once per read, here.
 */
public abstract class SplitRangesFn<ReadT, RangeT, GroupT> extends SourceCallsFn<ReadT, KV<Integer, GroupT>> {
  protected SplitRangesFn(ReadContext context) {
    super(context, "source probes");
  }

  @ProcessElement
  public void process(@Element ReadT read, OutputReceiver<KV<Integer, GroupT>> out) {
    List<List<RangeT>> groups = Groups.deal(split(read), ReadSpread.GROUPS);
    for (int group = 0; group < groups.size(); group++) {
      out.output(KV.of(group, group(read, groups.get(group))));
    }
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
