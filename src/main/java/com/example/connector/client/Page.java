package com.example.connector.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One page of records as the source served it, in the source's order, held whole (see
 * {@link ExampleClient#records(String, java.util.Map, ExampleClient.RecordHandler)} for pages
 * read as a stream).
 *
 * @param records the page's records, as JSON objects
 * @param nextPage the next page number, or null on the last page
 */
public record Page(List<ObjectNode> records, @Nullable Integer nextPage) {
  public Page {
    records = List.copyOf(records);
  }

  public boolean isLast() {
    return nextPage == null;
  }
}
