package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import com.example.connector.table.CatalogConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Map;
import java.util.TreeMap;

/** The Iceberg catalog the options name ({@code --catalogType} and the rest). */
final class CatalogOptions {
  private CatalogOptions() {}

  static CatalogConfig config(IngestOptions options) {
    return CatalogConfig.of("example", options.getCatalogType(), options.getCatalogImpl(), options.getCatalogUri(),
        options.getWarehouse(), options.getOutputRoot(), extra(options.getCatalogPropertiesFile()));
  }

  /** The properties file's properties, if one is given. */
  private static Map<String, String> extra(String file) {
    if (file == null || file.isBlank()) {
      return Map.of();
    }
    Properties props = new Properties();
    try (Reader in = Files.newBufferedReader(Path.of(file))) {
      props.load(in);
    } catch (IOException e) {
      throw new ConfigurationException("--catalogPropertiesFile=" + file + ": cannot be read ("
          + e.getClass().getSimpleName() + "); give a readable Java properties file");
    }
    Map<String, String> extra = new TreeMap<>();
    props.stringPropertyNames().forEach(k -> extra.put(k, props.getProperty(k)));
    return extra;
  }
}
