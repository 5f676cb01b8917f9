package com.example.connector.read;

import com.example.connector.client.Page;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.transforms.DoFn.BoundedPerElement;
import org.apache.beam.sdk.transforms.splittabledofn.GrowableOffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;

/**
 * Reads a whole table without a cursor ({@code products}) as a snapshot, by its replayable
 * pages.
 *
 * <p><b>Restriction.</b> An {@link OffsetRange} of page numbers. The initial restriction comes
 * from a logarithmic probe of the page count {@code n} (doubling, then bisection: about
 * {@code 2 log2 n} calls), and is {@code [1, n + 1)}.
 *
 * <p><b>Splitting.</b> The initial range is split into up to {@value #INITIAL_SPLITS} sub-ranges
 * of consecutive pages, read in parallel with Beam's {@link OffsetRangeTracker}. The last
 * sub-range is open-ended ({@code [k, Long.MAX_VALUE)}, tracked by Beam's
 * {@link GrowableOffsetRangeTracker}) and reads until the
 * source says there is no next page, so a table that grew since the probe is read to its end.
 * The source can only insert into this table, so pages only ever shift forward: a record may be
 * read twice at a sub-range boundary, never skipped within one; the snapshot merge de-duplicates
 * by primary key.
 *
 * <p><b>Checkpointing.</b> A position is a page; runners may checkpoint between pages. A page is
 * at most the source's page size, so no batch option applies.
 *
 * <p><b>Size and watermark.</b> The size is the number of pages left (estimated for the
 * open-ended range). The read is bounded; it emits no watermark of its own.
 */
@BoundedPerElement
public class ReadSnapshotPagesFn extends SourceReadFn<SnapshotRead> {
  static final int INITIAL_SPLITS = 8;
  private static final int MIN_PAGES_PER_SPLIT = 4;

  public ReadSnapshotPagesFn(ReadContext context) {
    super(context);
  }

  @GetInitialRestriction
  public OffsetRange initialRestriction(@Element SnapshotRead read) {
    return new OffsetRange(1, pageCount(read) + 1);
  }

  @SplitRestriction
  public void splitRestriction(@Restriction OffsetRange range, OutputReceiver<OffsetRange> out) {
    long count = range.getTo() - range.getFrom();
    long perSplit = Math.max(MIN_PAGES_PER_SPLIT, (count + INITIAL_SPLITS - 1) / INITIAL_SPLITS);
    long from = range.getFrom();
    while (from + perSplit < range.getTo()) {
      out.output(new OffsetRange(from, from + perSplit));
      from += perSplit;
    }
    out.output(new OffsetRange(from, Long.MAX_VALUE));
  }

  @NewTracker
  public RestrictionTracker<OffsetRange, Long> newTracker(@Restriction OffsetRange range) {
    if (range.getTo() == Long.MAX_VALUE) {
      // The estimate only feeds progress; the tracker raises it past every claimed page.
      long estimate = range.getFrom() + MIN_PAGES_PER_SPLIT;
      return new GrowableOffsetRangeTracker(range.getFrom(), () -> estimate);
    }
    return new OffsetRangeTracker(range);
  }

  @ProcessElement
  public ProcessContinuation process(
      @Element SnapshotRead read,
      RestrictionTracker<OffsetRange, Long> tracker,
      OutputReceiver<List<GenericRecord>> out) {
    Rows rows = rows(out, "snapshot");
    for (long page = tracker.currentRestriction().getFrom(); ; page++) {
      if (!tracker.tryClaim(page)) {
        return ProcessContinuation.stop();
      }
      Page result = fetch(read, page);
      for (ObjectNode record : result.records()) {
        rows.add(record);
      }
      rows.flush(); // one output per page
      if (result.isLast() || result.records().isEmpty()) {
        tracker.tryClaim(Long.MAX_VALUE); // no page after this one: the range is done
        return ProcessContinuation.stop();
      }
    }
  }

  /** The number of pages now: doubling until a page is the last or empty, then bisection. */
  private long pageCount(SnapshotRead read) {
    long known = 0; // a page known to exist and not be the last
    long probe = 1;
    while (true) {
      Page page = fetch(read, probe);
      if (page.isLast() && !page.records().isEmpty()) {
        return probe;
      }
      if (page.records().isEmpty()) {
        break;
      }
      known = probe;
      probe *= 2;
    }
    long low = known; // exists, not last (0: none)
    long high = probe; // empty
    while (high - low > 1) {
      long mid = (low + high) / 2;
      Page page = fetch(read, mid);
      if (page.records().isEmpty()) {
        high = mid;
      } else if (page.isLast()) {
        return mid;
      } else {
        low = mid;
      }
    }
    return Math.max(low, 1);
  }

  private Page fetch(SnapshotRead read, long page) {
    Map<String, String> params = new HashMap<>(read.params());
    params.put("page", Long.toString(page));
    pages.inc();
    return client.records(read.table(), params);
  }
}
