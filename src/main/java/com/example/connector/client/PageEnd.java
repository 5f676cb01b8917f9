package com.example.connector.client;

import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What a streamed page said besides its records.
 *
 * @param nextPage the next page number, or null on the last page (and when stopped)
 * @param stopped the handler stopped reading the page: what followed, {@code next_page}
 *     included, was not read
 */
public record PageEnd(@Nullable Integer nextPage, boolean stopped) {
  static final PageEnd STOPPED = new PageEnd(null, true);

  /** The source said there is no page after this one. */
  public boolean isLast() {
    return !stopped && nextPage == null;
  }
}
