package com.example.connector.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** One column of a source table: name, type, nullability and, for a struct, its subfields. */
public record SourceField(String name, FieldType type, boolean nullable, List<SourceField> fields)
    implements Serializable {
  /** Avro's rule for names, which the pipeline's rows follow. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  public SourceField {
    fields = List.copyOf(fields);
  }

  public static SourceField of(String name, FieldType type, boolean nullable) {
    return new SourceField(name, type, nullable, List.of());
  }

  /** Parses the API's field descriptor {@code {"name", "type", "nullable", "fields"?}}. */
  public static SourceField fromJson(JsonNode node, String where) {
    String name = node.path("name").asText();
    if (!NAME.matcher(name).matches()) { // Avro's own error named neither the table nor the rule
      throw new IllegalArgumentException(where + ": the source's column '" + name + "' cannot be landed: this"
          + " connector's rows (Avro records) need column names that start with a letter or '_' and hold"
          + " only letters, digits and '_'; a column named otherwise is not supported yet");
    }
    FieldType type = FieldType.fromSource(node.path("type").asText(), where + "." + name);
    List<SourceField> subfields = new ArrayList<>();
    node.path("fields").forEach(f -> subfields.add(fromJson(f, where + "." + name)));
    return new SourceField(name, type, node.path("nullable").asBoolean(true), subfields);
  }
}
