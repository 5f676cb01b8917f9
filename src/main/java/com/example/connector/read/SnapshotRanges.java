package com.example.connector.read;

import com.example.connector.read.ReadSnapshotPagesFn.KeyRange;
import java.io.Serializable;
import java.util.List;

/**
 * Key ranges of one snapshot read that one worker reads side by side: the element of {@link
 * ReadSnapshotPagesFn}, after {@link SplitSnapshotFn} cut the table and grouped its ranges, and a
 * reshuffle spread the groups over workers.
 */
public record SnapshotRanges(SnapshotRead read, List<KeyRange> ranges) implements Serializable {

  public SnapshotRanges {
    ranges = List.copyOf(ranges);
  }

  /** The ranges as the read's restriction. */
  public LaneSet<KeyRange> restriction() {
    return new LaneSet<>(ranges);
  }
}
