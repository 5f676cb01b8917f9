package com.example.connector.catalog;

import com.example.connector.ConfigurationException;
import com.example.connector.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Serializable;
import java.math.BigInteger;
import java.time.Instant;
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

  /**
   * The largest {@code window_seconds}: 100 years. Reads multiply it by 10^6 and add it to
   * cursors up to {@link #LATEST_START}; under this bound neither can overflow a long.
   */
  public static final long MAX_WINDOW_SECONDS = 36_525L * 86_400; // 100 years of 365.25 days
  /** The range of {@code start_timestamp}: years 1 to 9999, whose microseconds fit a long. */
  private static final Instant EARLIEST_START = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant LATEST_START = Instant.parse("9999-12-31T23:59:59.999999Z");

  private static final Range INT_RANGE = new Range(Integer.MAX_VALUE, "" + Integer.MAX_VALUE);
  private static final Range WINDOW_RANGE =
      new Range(MAX_WINDOW_SECONDS, MAX_WINDOW_SECONDS + " (100 years)");

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
    if (maxRecordsPerBatch <= 0 || limit <= 0 || windowSeconds <= 0
        || windowSeconds > MAX_WINDOW_SECONDS) {
      throw new IllegalArgumentException("maxRecordsPerBatch and limit must be positive, and"
          + " windowSeconds from 1 to " + MAX_WINDOW_SECONDS);
    }
    primaryKeys = primaryKeys == null ? null : List.copyOf(primaryKeys);
  }

  /**
   * Parses and validates one table's table_configuration. {@code where} starts every message,
   * e.g. {@code "pipelines/x.json: table 'orders' (object[0])"}.
   */
  public static TableOptions parse(TableDescriptor table, Map<String, JsonNode> config,
      Set<String> allowList, String where) {
    config.keySet().forEach(option -> checkAllowed(option, table, allowList, where));
    Config c = new Config(config, where);
    List<String> primaryKeys = c.primaryKeys(table.columnNames());
    String sequenceBy = c.column("sequence_by", table.columnNames());
    ScdType scdType = c.scdType(table.ingestionType());
    checkMergeColumns(table, scdType, primaryKeys, sequenceBy, where);
    return new TableOptions(
        (int) c.number("max_records_per_batch", 200, INT_RANGE),
        (int) c.number("limit", 50, INT_RANGE),
        c.number("window_seconds", 3600, WINDOW_RANGE),
        c.string("category"),
        c.string("user_id"),
        c.string("status"),
        c.startTimestamp(),
        scdType,
        primaryKeys,
        sequenceBy);
  }

  /** The option is known, applies to this table and, if source-specific, is allowlisted. */
  private static void checkAllowed(String option, TableDescriptor table, Set<String> allowList,
      String where) {
    if (!COMMON.contains(option) && !SOURCE_SPECIFIC.contains(option)) {
      List<String> known = new ArrayList<>(COMMON);
      known.addAll(SOURCE_SPECIFIC);
      throw error(where, option, "unknown option",
          "the known options are " + String.join(", ", known));
    }
    checkApplies(option, table, where);
    if (SOURCE_SPECIFIC.contains(option) && !allowList.contains(option)) {
      throw error(where, option,
          "'" + option + "' is not in the connection's externalOptionsAllowList",
          "add '" + option + "' to externalOptionsAllowList of the connection");
    }
  }

  private static void checkApplies(String option, TableDescriptor table, String where) {
    String sourceTable = table.name();
    IngestionType type = table.ingestionType();
    if (option.equals("scd_type") && type == IngestionType.APPEND) {
      throw error(where, option, "APPEND_ONLY tables do not support scd_type ('" + sourceTable
          + "' is an append table)", "remove scd_type from this table");
    }
    if (option.equals("max_records_per_batch") && type == IngestionType.SNAPSHOT) {
      throw error(where, option,
          "does not apply to snapshot table '" + sourceTable + "'; it applies to the"
              + " incremental tables (events, users, orders, metrics)",
          "remove it from this table");
    }
    String only = ONLY_FOR.get(option);
    if (only != null && !only.equals(sourceTable)) {
      throw error(where, option,
          "does not apply to table '" + sourceTable + "'; it applies only to " + only,
          "remove it from this table");
    }
  }

  /** Whether the key and sequence overrides can do their job on this table. */
  private static void checkMergeColumns(TableDescriptor table, @Nullable ScdType scdType,
      @Nullable List<String> primaryKeys, @Nullable String sequenceBy, String where) {
    String name = table.name();
    List<String> overridden = overridden(primaryKeys, sequenceBy);
    if (table.ingestionType() == IngestionType.APPEND && !overridden.isEmpty()) {
      String option = overridden.get(0);
      throw error(where, option, "'" + name + "' is an append table: its rows are never"
          + " merged by key or ordered into versions, so " + option + " has no effect",
          "remove " + option + " from this table");
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
    for (String option : overridden) {
      List<String> named = option.equals("sequence_by") ? List.of(sequenceBy) : primaryKeys;
      for (String column : named) {
        SourceField field = table.fields().stream()
            .filter(f -> f.name().equals(column)).findFirst().orElseThrow();
        if (field.type() == FieldType.STRUCT) {
          throw error(where, option, "'" + column + "' is a struct column; keys and sequences"
              + " must be plain values", "name a column of another type");
        }
        // Iceberg refuses a floating-point identifier field (it failed the run with its own message).
        if (option.equals("primary_keys") && scdType == ScdType.SCD_TYPE_1 && field.type() == FieldType.DOUBLE) {
          throw error(where, option, "'" + column + "' is a double column; an SCD_TYPE_1 table's keys"
              + " are its Iceberg identifier fields, which cannot be floating-point",
              "name a column of another type, or keep every version with scd_type SCD_TYPE_2");
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

  private static ConfigurationException error(String where, String option, String what,
      String fix) {
    return Json.error(where, path(option), what, fix);
  }

  private static String path(String option) {
    return "table_configuration." + option;
  }

  /** The largest value a numeric option takes, and how a message shows it. */
  private record Range(long max, String shown) {}

  /** The options as given, each read by the method for its kind of value, or its default. */
  private record Config(Map<String, JsonNode> values, String where) {

    /** A positive whole number up to the range's max, as a JSON number or a string of digits. */
    long number(String option, long fallback, Range range) {
      JsonNode value = values.get(option);
      if (value == null) {
        return fallback;
      }
      String text;
      if (value.isTextual()) {
        text = value.asText().strip();
      } else if (value.isIntegralNumber()) {
        text = value.bigIntegerValue().toString();
      } else if (value.isNumber()) {
        text = value.asText();
      } else {
        throw error(where, option, "must be a number, found " + Json.kind(value),
            "write a positive whole number, e.g. \"500\"");
      }
      String fix = "write a whole number from 1 to " + range.shown() + ", e.g. \"500\"";
      if (!text.matches("[0-9]+") || new BigInteger(text).signum() == 0) {
        throw error(where, option, "'" + text + "' is not a positive whole number", fix);
      }
      if (new BigInteger(text).compareTo(BigInteger.valueOf(range.max())) > 0) {
        throw error(where, option, "'" + text + "' is out of range", fix);
      }
      return Long.parseLong(text);
    }

    @Nullable String string(String option) {
      JsonNode value = values.get(option);
      return value == null ? null : Json.string(value, where, path(option));
    }

    @Nullable Instant startTimestamp() {
      String option = "start_timestamp";
      String text = string(option);
      if (text == null) {
        return null;
      }
      String fix = "write it like \"2024-01-01T00:00:00Z\" or \"2024-01-01T02:00:00+02:00\"";
      Instant start;
      try {
        start = Timestamps.parse(text.strip());
      } catch (IllegalArgumentException e) {
        throw error(where, option, "'" + text + "' is not an ISO-8601 timestamp with an offset", fix);
      }
      if (start.isBefore(EARLIEST_START) || start.isAfter(LATEST_START)) {
        throw error(where, option, "'" + text + "' is outside the years 1 to 9999", fix);
      }
      return start;
    }

    @Nullable ScdType scdType(IngestionType type) {
      String scd = string("scd_type");
      if (scd == null) {
        return type == IngestionType.APPEND ? null : ScdType.SCD_TYPE_1;
      }
      try {
        return ScdType.valueOf(scd);
      } catch (IllegalArgumentException e) {
        throw error(where, "scd_type", "'" + scd + "' is not an SCD type",
            "use SCD_TYPE_1 or SCD_TYPE_2");
      }
    }

    @Nullable String column(String option, List<String> columns) {
      String name = string(option);
      return name == null ? null : checkColumn(option, name, columns);
    }

    private String checkColumn(String option, String name, List<String> columns) {
      if (!columns.contains(name)) {
        throw error(where, option, "'" + name + "' is not a column of this table",
            "use one of " + String.join(", ", columns));
      }
      return name;
    }

    /** A JSON array of strings, a string holding one, or a comma-separated string. */
    @Nullable List<String> primaryKeys(List<String> columns) {
      String option = "primary_keys";
      JsonNode value = values.get(option);
      if (value == null) {
        return null;
      }
      String fix = "write a list of column names, e.g. [\"id\"] or \"id,created_at\"";
      List<String> names = keyNames(value, fix);
      if (names.isEmpty()) {
        throw error(where, option, "is empty", fix + ", or remove it to keep the default keys");
      }
      if (new LinkedHashSet<>(names).size() != names.size()) {
        throw error(where, option, "names a column more than once", "list each column once");
      }
      names.forEach(name -> checkColumn(option, name, columns));
      return List.copyOf(names);
    }

    private List<String> keyNames(JsonNode value, String fix) {
      String option = "primary_keys";
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
                : Json.kind(element)) + "; every element must be a column name", fix);
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
        throw error(where, option, "must be a list or a string, found " + Json.kind(value), fix);
      }
      return names;
    }
  }
}
