package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import java.util.regex.Pattern;

/**
 * The one rule for destination catalog, schema and table names, wherever they are given (the
 * spec's {@code destination_*}, {@code --defaultCatalog}, {@code --defaultSchema}). Each name is
 * a directory under the output root and a dot-separated part of the table's state file
 * ({@code _state/CATALOG.SCHEMA.TABLE.json}), so it must map to both one-to-one: no dots
 * ({@code a.b/c/t} and {@code a/b.c/t} would share a state file) and no leading {@code _} (the
 * connector's own {@code _state}, {@code _staging} and {@code _changes}).
 */
final class DestinationNames {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");

  private DestinationNames() {}

  /** {@code name}, or a configuration error naming {@code field} (with its location, if any). */
  static String check(String name, String field) {
    if (!NAME.matcher(name).matches()) {
      throw new ConfigurationException(
          field + ": '" + name + "' is not a valid destination name: names become directories and"
              + " parts of the state file's name, so they may hold only letters, digits, '_' and"
              + " '-', starting with a letter or digit (names starting with '_' are the"
              + " connector's own: _state, _staging, _changes); " + suggestion(name));
    }
    return name;
  }

  private static String suggestion(String name) {
    String fixed = name.replaceAll("[^A-Za-z0-9_-]", "_").replaceFirst("^[_-]+", "");
    return fixed.isEmpty() ? "choose another name" : "use e.g. '" + fixed + "'";
  }
}
