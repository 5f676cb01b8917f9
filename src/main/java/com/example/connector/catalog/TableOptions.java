package com.example.connector.catalog;

import com.example.connector.ConfigurationException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Serializable;
import java.math.BigInteger;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One table's validated {@code table_configuration}. Serializable: it travels into Beam DoFns.
 * Unset filters are null; {@code scdType} is null for APPEND tables and defaults to SCD_TYPE_1
 * otherwise; {@code primaryKeys} and {@code sequenceBy} are null when not overridden.
 */
public record TableOptions(
    int maxRecordsPerBatch,
    int limit,
    long windowSeconds,
    @Nullable String category,
    @Nullable String userId,
    @Nullable String status,
    @Nullable Instant startTimestamp,
    @Nullable ScdType scdType,
    @Nullable List<String> primaryKeys,
    @Nullable String sequenceBy)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  public static final int DEFAULT_MAX_RECORDS_PER_BATCH = 200;
  public static final int DEFAULT_LIMIT = 50;
  public static final long DEFAULT_WINDOW_SECONDS = 3600;

  /** Always allowed, not gated by the connection's allowlist. */
  private static final List<String> COMMON = List.of("scd_type", "primary_keys", "sequence_by");
  /** Each must be in the connection's externalOptionsAllowList. */
  private static final List<String> SOURCE_SPECIFIC =
      List.of("max_records_per_batch", "limit", "window_seconds", "category", "user_id", "status",
          "start_timestamp");
  /** The table each single-table option applies to. */
  private static final Map<String, String> ONLY_FOR =
      Map.of("limit", "events", "window_seconds", "metrics", "category", "products",
          "user_id", "orders", "status", "orders", "start_timestamp", "metrics");

  public TableOptions {
    if (maxRecordsPerBatch <= 0 || limit <= 0 || windowSeconds <= 0) {
      throw new IllegalArgumentException(
          "maxRecordsPerBatch, limit and windowSeconds must be positive");
    }
    primaryKeys = primaryKeys == null ? null : List.copyOf(primaryKeys);
  }

  /** Every default: what a table with an empty table_configuration gets (for a non-APPEND type). */
  public static TableOptions defaults(IngestionType type) {
    return new TableOptions(DEFAULT_MAX_RECORDS_PER_BATCH, DEFAULT_LIMIT, DEFAULT_WINDOW_SECONDS,
        null, null, null, null, type == IngestionType.APPEND ? null : ScdType.SCD_TYPE_1, null,
        null);
  }

  /**
   * Parses and validates one table's table_configuration. {@code where} starts every message,
   * e.g. {@code "pipelines/x.json: table 'orders' (object[0])"}.
   */
  public static TableOptions parse(TableDescriptor table, Map<String, JsonNode> config,
      Set<String> allowList, String where) {
    String sourceTable = table.name();
    IngestionType type = table.ingestionType();
    List<String> columns = table.columnNames();
    int maxRecordsPerBatch = DEFAULT_MAX_RECORDS_PER_BATCH;
    int limit = DEFAULT_LIMIT;
    long windowSeconds = DEFAULT_WINDOW_SECONDS;
    String category = null;
    String userId = null;
    String status = null;
    Instant startTimestamp = null;
    ScdType scdType = type == IngestionType.APPEND ? null : ScdType.SCD_TYPE_1;
    List<String> primaryKeys = null;
    String sequenceBy = null;

    for (Map.Entry<String, JsonNode> e : config.entrySet()) {
      String option = e.getKey();
      JsonNode value = e.getValue();
      if (!COMMON.contains(option) && !SOURCE_SPECIFIC.contains(option)) {
        List<String> known = new ArrayList<>(COMMON);
        known.addAll(SOURCE_SPECIFIC);
        throw error(where, option, "unknown option",
            "the known options are " + String.join(", ", known));
      }
      if (SOURCE_SPECIFIC.contains(option)) {
        checkApplies(option, sourceTable, type, where);
        if (!allowList.contains(option)) {
          throw error(where, option,
              "'" + option + "' is not in the connection's externalOptionsAllowList",
              "add '" + option + "' to externalOptionsAllowList of the connection");
        }
      }
      switch (option) {
        case "scd_type":
          if (type == IngestionType.APPEND) {
            throw error(where, option,
                "APPEND_ONLY tables do not support scd_type ('" + sourceTable
                    + "' is an append table)", "remove scd_type from this table");
          }
          String scd = string(option, value, where);
          try {
            scdType = ScdType.valueOf(scd);
          } catch (IllegalArgumentException ex) {
            throw error(where, option, "'" + scd + "' is not an SCD type",
                "use SCD_TYPE_1 or SCD_TYPE_2");
          }
          break;
        case "primary_keys":
          primaryKeys = primaryKeys(value, columns, where);
          break;
        case "sequence_by":
          sequenceBy = column(option, string(option, value, where), columns, where);
          break;
        case "max_records_per_batch":
          maxRecordsPerBatch = (int) positive(option, value, Integer.MAX_VALUE, where);
          break;
        case "limit":
          limit = (int) positive(option, value, Integer.MAX_VALUE, where);
          break;
        case "window_seconds":
          windowSeconds = positive(option, value, Long.MAX_VALUE, where);
          break;
        case "category":
          category = string(option, value, where);
          break;
        case "user_id":
          userId = string(option, value, where);
          break;
        case "status":
          status = string(option, value, where);
          break;
        case "start_timestamp":
          startTimestamp = instant(option, string(option, value, where), where);
          break;
        default:
          throw new AssertionError(option);
      }
    }
    checkMergeColumns(table, primaryKeys, sequenceBy, where);
    return new TableOptions(maxRecordsPerBatch, limit, windowSeconds, category, userId, status,
        startTimestamp, scdType, primaryKeys, sequenceBy);
  }

  /** Whether the key and sequence overrides can do their job on this table. */
  private static void checkMergeColumns(TableDescriptor table, @Nullable List<String> primaryKeys,
      @Nullable String sequenceBy, String where) {
    String name = table.name();
    if (table.ingestionType() == IngestionType.APPEND) {
      for (String option : overridden(primaryKeys, sequenceBy)) {
        throw error(where, option, "'" + name + "' is an append table: its rows are never"
            + " merged by key or ordered into versions, so " + option + " has no effect",
            "remove " + option + " from this table");
      }
    }
    if (table.ingestionType() == IngestionType.SNAPSHOT && sequenceBy != null) {
      throw error(where, "sequence_by", "'" + name + "' is a snapshot table: its versions are"
          + " ordered by the run that read them, so sequence_by has no effect",
          "remove sequence_by from this table");
    }
    // A tombstone has every column but the key and the cursor null.
    List<String> tombstoneColumns = new ArrayList<>(table.primaryKeys());
    if (table.cursorField() != null) {
      tombstoneColumns.add(table.cursorField());
    }
    for (String option : overridden(primaryKeys, sequenceBy)) {
      List<String> named = option.equals("sequence_by") ? List.of(sequenceBy) : primaryKeys;
      for (String column : named) {
        SourceField field = table.fields().stream()
            .filter(f -> f.name().equals(column)).findFirst().orElseThrow();
        if (field.type() == FieldType.STRUCT) {
          throw error(where, option, "'" + column + "' is a struct column; keys and sequences"
              + " must be plain values", "name a column of another type");
        }
        if (table.ingestionType() == IngestionType.CDC_WITH_DELETES
            && !tombstoneColumns.contains(column)) {
          throw error(where, option, "'" + column + "' is null in the deletes of '" + name
              + "' (a tombstone carries only " + String.join(" and ", tombstoneColumns)
              + "), so a delete could not be " + (option.equals("sequence_by") ? "ordered"
              : "matched") + " by it", "use only " + String.join(", ", tombstoneColumns));
        }
      }
    }
  }

  private static List<String> overridden(@Nullable List<String> primaryKeys,
      @Nullable String sequenceBy) {
    List<String> options = new ArrayList<>();
    if (primaryKeys != null) {
      options.add("primary_keys");
    }
    if (sequenceBy != null) {
      options.add("sequence_by");
    }
    return options;
  }

  private static void checkApplies(String option, String sourceTable, IngestionType type,
      String where) {
    if (option.equals("max_records_per_batch")) {
      if (type == IngestionType.SNAPSHOT) {
        throw error(where, option,
            "does not apply to snapshot table '" + sourceTable + "'; it applies to the"
                + " incremental tables (events, users, orders, metrics)",
            "remove it from this table");
      }
      return;
    }
    String table = ONLY_FOR.get(option);
    if (!table.equals(sourceTable)) {
      throw error(where, option,
          "does not apply to table '" + sourceTable + "'; it applies only to " + table,
          "remove it from this table");
    }
  }

  /** A positive whole number up to {@code max}, given as a JSON number or a string of digits. */
  private static long positive(String option, JsonNode value, long max, String where) {
    String text;
    if (value.isTextual()) {
      text = value.asText().strip();
    } else if (value.isIntegralNumber()) {
      text = value.bigIntegerValue().toString();
    } else if (value.isNumber()) {
      text = value.asText();
    } else {
      throw error(where, option, "must be a number, found " + kindOf(value),
          "write a positive whole number, e.g. \"500\"");
    }
    String fix = "write a whole number from 1 to " + max + ", e.g. \"500\"";
    if (!text.matches("[0-9]+")) {
      throw error(where, option, "'" + text + "' is not a positive whole number", fix);
    }
    BigInteger n = new BigInteger(text);
    if (n.signum() <= 0) {
      throw error(where, option, "'" + text + "' is not a positive whole number", fix);
    }
    if (n.compareTo(BigInteger.valueOf(max)) > 0) {
      throw error(where, option, "'" + text + "' is out of range", fix);
    }
    return n.longValueExact();
  }

  private static String string(String option, JsonNode value, String where) {
    if (!value.isTextual()) {
      throw error(where, option, "must be a string, found " + kindOf(value),
          "write it in double quotes");
    }
    if (value.asText().isBlank()) {
      throw error(where, option, "is empty", "give it a non-empty value or remove it");
    }
    return value.asText();
  }

  private static Instant instant(String option, String text, String where) {
    try {
      return OffsetDateTime.parse(text.strip(), DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      throw error(where, option, "'" + text + "' is not an ISO-8601 timestamp with an offset",
          "write it like \"2024-01-01T00:00:00Z\" or \"2024-01-01T02:00:00+02:00\"");
    }
  }

  private static String column(String option, String name, List<String> columns, String where) {
    if (!columns.contains(name)) {
      throw error(where, option, "'" + name + "' is not a column of this table",
          "use one of " + String.join(", ", columns));
    }
    return name;
  }

  /** A JSON array of strings, a string holding one, or a comma-separated string. */
  private static List<String> primaryKeys(JsonNode value, List<String> columns, String where) {
    String option = "primary_keys";
    String fix = "write a list of column names, e.g. [\"id\"] or \"id,created_at\"";
    JsonNode array = value;
    if (value.isTextual() && value.asText().strip().startsWith("[")) {
      try {
        array = new ObjectMapper().readTree(value.asText());
      } catch (JsonProcessingException e) {
        throw error(where, option, "'" + value.asText() + "' is not a valid JSON array", fix);
      }
    }
    List<String> names = new ArrayList<>();
    if (array.isArray()) {
      for (JsonNode element : array) {
        if (!element.isTextual() || element.asText().isBlank()) {
          throw error(where, option, "contains " + (element.isTextual() ? "an empty name"
              : kindOf(element)) + "; every element must be a column name", fix);
        }
        names.add(element.asText().strip());
      }
    } else if (array.isTextual()) {
      for (String part : array.asText().split(",")) {
        if (!part.isBlank()) {
          names.add(part.strip());
        }
      }
    } else {
      throw error(where, option, "must be a list or a string, found " + kindOf(value), fix);
    }
    if (names.isEmpty()) {
      throw error(where, option, "is empty", fix + ", or remove it to keep the default keys");
    }
    if (new LinkedHashSet<>(names).size() != names.size()) {
      throw error(where, option, "names a column more than once", "list each column once");
    }
    for (String name : names) {
      column(option, name, columns, where);
    }
    return List.copyOf(names);
  }

  private static String kindOf(JsonNode node) {
    return node.isArray() ? "an array" : node.isObject() ? "an object" : node.isNull() ? "null"
        : node.isBoolean() ? "a boolean" : node.isNumber() ? "a number" : "a string";
  }

  private static ConfigurationException error(String where, String option, String what,
      String fix) {
    return new ConfigurationException(
        where + ": table_configuration." + option + ": " + what + "; " + fix);
  }
}
