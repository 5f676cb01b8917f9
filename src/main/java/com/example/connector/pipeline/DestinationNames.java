package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import com.example.connector.table.Destination;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The one rule for destination catalog, schema and table names, wherever they are given (the
 * spec's {@code destination_*}, {@code --defaultCatalog}, {@code --defaultSchema}). Each name is
 * a part of the Iceberg identifier {@code catalog.schema.table} and a directory of the Hadoop
 * catalog's warehouse, so it must map to both one-to-one: no dots ({@code a.b/c/t} and
 * {@code a/b.c/t} would be one name), no leading {@code _} (Hadoop-style readers skip such
 * directories), and no {@code __changes} at the end (an SCD table's change feed is its name so
 * ended).
 */
final class DestinationNames {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");

  private DestinationNames() {}

  /** {@code name}, or a configuration error naming {@code field} (with its location, if any). */
  static String check(String name, String field) {
    if (!NAME.matcher(name).matches()) {
      throw new ConfigurationException(
          field + ": '" + name + "' is not a valid destination name: names become parts of an Iceberg"
              + " identifier and directories, so they may hold only letters, digits, '_' and '-',"
              + " starting with a letter or digit; " + suggestion(name));
    }
    // In any case: names that differ only in case are one destination.
    if (name.toLowerCase(Locale.ROOT).endsWith(Destination.CHANGE_FEED_SUFFIX)) {
      throw new ConfigurationException(field + ": '" + name + "' ends with '" + Destination.CHANGE_FEED_SUFFIX
          + "', which names the change feed of an SCD table; choose another name");
    }
    return name;
  }

  private static String suggestion(String name) {
    String fixed = name.replaceAll("[^A-Za-z0-9_-]", "_").replaceFirst("^[_-]+", "");
    return fixed.isEmpty() ? "choose another name" : "use e.g. '" + fixed + "'";
  }
}
