package com.example.connector.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import javax.annotation.Nullable;

/**
 * One page of records as the source served it, in the source's order.
 *
 * @param records the page's records, as JSON objects
 * @param nextPage the next page number, or null on the last page
 * @param sourceTime the source's clock when it answered (its {@code Date} header), if it sent one
 */
public record Page(List<ObjectNode> records, @Nullable Integer nextPage, @Nullable Instant sourceTime) {
  public boolean isLast() {
    return nextPage == null;
  }
}
