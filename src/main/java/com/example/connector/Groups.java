package com.example.connector;

import java.util.ArrayList;
import java.util.List;

/** Dealing work into groups, as cards: item {@code i} to group {@code i % n}. */
public final class Groups {
  private Groups() {}

  /**
   * {@code items} dealt into at most {@code groups} non-empty groups, so that every group spans
   * the whole list (a feed's cursor range, a table's files) rather than a run of it.
   */
  public static <T> List<List<T>> deal(List<T> items, int groups) {
    int n = Math.min(groups, items.size());
    List<List<T>> dealt = new ArrayList<>(n);
    for (int g = 0; g < n; g++) {
      List<T> group = new ArrayList<>();
      for (int i = g; i < items.size(); i += n) {
        group.add(items.get(i));
      }
      dealt.add(group);
    }
    return dealt;
  }
}
