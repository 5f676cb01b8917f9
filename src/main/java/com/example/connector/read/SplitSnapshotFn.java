package com.example.connector.read;

import com.example.connector.read.ReadSnapshotPagesFn.KeyRange;
import java.util.List;

/**
 * Cuts a snapshot read into key ranges of similar page counts ({@link SnapshotPages#ranges}: as
 * many as {@value ReadSpread#GROUPS} times the connection's {@code max_concurrent_requests}, at
 * least {@value ReadSnapshotPagesFn#MIN_PAGES_PER_SPLIT} pages each), dealt into groups that a
 * worker reads side by side ({@link ReadSnapshotPagesFn}).
 */
public final class SplitSnapshotFn extends SplitRangesFn<SnapshotRead, KeyRange, SnapshotRanges> {

  private final String keyField;

  public SplitSnapshotFn(ReadContext context) {
    super(context);
    this.keyField = SnapshotPages.keyField(context.table());
  }

  @Override
  List<KeyRange> split(SnapshotRead read) {
    return new SnapshotPages(client, parallel, calls.pages(), keyField)
        .ranges(read, maxRanges(), ReadSnapshotPagesFn.MIN_PAGES_PER_SPLIT);
  }

  @Override
  SnapshotRanges group(SnapshotRead read, List<KeyRange> ranges) {
    return new SnapshotRanges(read, ranges);
  }
}
