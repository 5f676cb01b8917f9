package com.example.connector;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Reading and checking the JSON of configuration files (pipeline specs, connections, table
 * options); every failure is a ConfigurationException of the form {@code SOURCE: PATH: WHAT; FIX}.
 */
public final class Json {
  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private Json() {}

  /**
   * Parses {@code json}. A syntax error names line and column; Jackson's own explanation is
   * included only when {@code explain} is true, since it may quote text from the file (a
   * connection file holds a password).
   */
  public static JsonNode read(String json, String source, boolean explain) {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where =
          at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
      String why = explain ? ": " + e.getOriginalMessage().lines().findFirst().orElse("") : "";
      throw new ConfigurationException(
          source + ": malformed JSON" + where + why + "; fix the JSON syntax there");
    }
    if (root == null || root.isMissingNode()) {
      throw new ConfigurationException(source + ": the file is empty; write a JSON object");
    }
    return root;
  }

  public static ObjectNode object(JsonNode node, String source, String path) {
    if (!node.isObject()) {
      throw error(source, path, "must be a JSON object {...}, found " + kind(node),
          "write it as an object");
    }
    return (ObjectNode) node;
  }

  /** Rejects any key not in {@code allowed} (which is in the documented order). */
  public static void onlyKeys(ObjectNode node, String source, String path, Set<String> allowed) {
    List<String> unknown = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!allowed.contains(key)) {
        unknown.add("'" + key + "'");
      }
    }
    if (!unknown.isEmpty()) {
      throw error(source, path.isEmpty() ? "(top level)" : path,
          "unknown key" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown),
          "the allowed keys are " + String.join(", ", allowed));
    }
  }

  /** A required non-blank string. Never echoes the value. */
  public static String requiredString(ObjectNode node, String source, String path, String key) {
    String value = optionalString(node, source, path, key);
    if (value == null) {
      throw error(source, join(path, key), "is missing", "add \"" + key + "\": \"...\"");
    }
    return value;
  }

  /** A non-blank string, or null if the key is absent or JSON null. Never echoes the value. */
  public static @Nullable String optionalString(ObjectNode node, String source, String path, String key) {
    JsonNode value = node.get(key);
    return value == null || value.isNull() ? null : string(value, source, join(path, key));
  }

  /** A non-blank string value at {@code path}. Never echoes the value. */
  public static String string(JsonNode value, String source, String path) {
    if (!value.isTextual()) {
      throw error(source, path, "must be a string, found " + kind(value), "write it in double quotes");
    }
    if (value.asText().isBlank()) {
      throw error(source, path, "is empty", "give it a non-empty value or remove it");
    }
    return value.asText();
  }

  public static String join(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  public static ConfigurationException error(String source, String path, String what, String fix) {
    return new ConfigurationException(source + ": " + path + ": " + what + "; " + fix);
  }

  public static String kind(JsonNode node) {
    switch (node.getNodeType()) {
      case ARRAY: return "an array";
      case OBJECT: return "an object";
      case NUMBER: return "a number";
      case BOOLEAN: return "a boolean";
      case NULL: return "null";
      case STRING: return "a string";
      default: return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
