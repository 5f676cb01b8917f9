package com.example.connector.pipeline;

import com.example.connector.table.CatalogConfig;
import java.util.Map;

/** The Iceberg catalog the options name ({@code --catalogType} and the rest). */
final class CatalogOptions {
  private CatalogOptions() {}

  static CatalogConfig config(IngestOptions options) {
    return CatalogConfig.of("example", options.getCatalogType(), options.getCatalogImpl(), options.getCatalogUri(),
            options.getWarehouse(), options.getOutputRoot(), Map.of())
        .withPropertiesFile(options.getCatalogPropertiesFile());
  }
}
