package com.example.connector.catalog;

import java.io.Serializable;
import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What the connector knows of one source table: its columns, keys, cursor and how it is read.
 *
 * @param identityField the column that orders records sharing a cursor value (the source's tie
 *     breaker): the primary key, or {@code event_id} for events, which have no declared key
 */
public record TableDescriptor(
    String name,
    List<SourceField> fields,
    List<String> primaryKeys,
    @Nullable String cursorField,
    String identityField,
    IngestionType ingestionType)
    implements Serializable {

  public TableDescriptor {
    fields = List.copyOf(fields);
    primaryKeys = List.copyOf(primaryKeys);
  }

  public List<String> columnNames() {
    return fields.stream().map(SourceField::name).toList();
  }
}
