package com.example.connector.read;

import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.TableCatalog;
import com.example.connector.catalog.TableDescriptor;
import com.example.connector.client.ExampleClient;
import com.example.connector.client.SourceException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a read does with a record's fields that the table's schema, as the run planned it, lacks
 * ({@link RecordSchemas#toRow} finds them). The source's schema, asked again once per field name
 * and read call, tells two cases apart. A column the source added since the run was planned fails
 * the read: its values would be lost for good, as the cursor moves past them and the next run,
 * which adds the column, would not read them again. A field the source does not declare is left
 * out, as it always was, with one warning per table and field in this JVM. The hidden {@code
 * metrics} has no schema route (its schema is the connector's own): its unknown fields count as
 * undeclared.
 *
 * <p>One per read DoFn instance (it uses that instance's client); thread-safe, for its lanes.
 */
final class UnplannedColumns implements RecordSchemas.UnplannedFields {
  private static final Logger LOG = LoggerFactory.getLogger(UnplannedColumns.class);
  /** Table and field, for the warnings this JVM gave. */
  private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

  private final TableDescriptor table;
  private final ExampleClient client;
  /** By column path: whether the source's schema declared it when asked. */
  private final Map<String, Boolean> declared = new ConcurrentHashMap<>();

  UnplannedColumns(TableDescriptor table, ExampleClient client) {
    this.table = table;
    this.client = client;
  }

  @Override
  public void found(List<String> columns) {
    List<String> added = new ArrayList<>();
    for (String column : columns) {
      Boolean known = declared.get(column);
      if (known == null ? ask(column) : known) {
        added.add(column);
      }
    }
    if (!added.isEmpty()) {
      boolean one = added.size() == 1;
      throw new SourceException("the source added " + (one ? "column " : "columns ")
          + added.stream().map(c -> "'" + c + "'").collect(Collectors.joining(", ")) + " to table " + table.name()
          + " after this run was planned: this run stops rather than drop the new values, and commits none of the"
          + " table's records that carry them; run again (restart a continuous run): the next run adds the "
          + (one ? "column" : "columns") + " to the table and reads these records again, with their values",
          200,
          null);
    }
  }

  /**
   * A new read call (a poll, a checkpointed group's next call): fields found undeclared are asked
   * about again when met. The source may declare them since (a field sent before its schema route
   * lists it, a schema answered from a cache): kept for good, a continuous read left the column's
   * values out of every record for as long as it ran, its cursor moving past them.
   */
  void newRead() {
    declared.clear();
  }

  /** Asks the source's schema whether it declares {@code column}: once a read call, whatever the lanes. */
  private synchronized boolean ask(String column) {
    Boolean known = declared.get(column);
    if (known != null) {
      return known;
    }
    known = !TableCatalog.METRICS.equals(table) && declares(client.schema(table.name()), column);
    declared.put(column, known);
    if (!known && WARNED.add(table.name() + "." + column)) {
      LOG.warn("The source sends a field '{}' in records of table {} that its schema does not declare: the field"
          + " is left out of the rows", column, table.name());
    }
    return known;
  }

  /** Whether the field descriptors {@code fields} hold {@code column} (a path through struct columns). */
  private static boolean declares(JsonNode fields, String column) {
    JsonNode level = fields;
    for (String name : column.split("\\.")) {
      JsonNode match = null;
      for (JsonNode f : level) {
        if (name.equals(f.path("name").asText())) {
          match = f;
        }
      }
      if (match == null) {
        return false;
      }
      level = match.path("fields");
    }
    return true;
  }
}
