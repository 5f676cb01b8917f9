package com.example.connector.table;

import com.example.connector.ConfigurationException;
import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The Iceberg catalog the tables live in, as the properties Iceberg's {@link CatalogUtil} loads
 * a catalog from ({@code type} or {@code catalog-impl}, {@code uri}, {@code warehouse}, and any
 * catalog-specific ones). Serializable, so every worker loads the same catalog, as Beam's
 * IcebergIO does with its {@code IcebergCatalogConfig}.
 *
 * <p>The default is a Hadoop catalog whose warehouse is {@code --outputRoot}: no server, tables
 * under {@code WAREHOUSE/catalog/schema/table/}. It commits by renaming a metadata file, which is
 * atomic on a local or HDFS file system only; on an object store two writers could both win, so
 * a Hadoop catalog there is refused.
 */
public final class CatalogConfig implements Serializable {
  private static final Pattern SECRET = Pattern.compile("(?i).*(password|secret|token|credential|private|key).*");
  /**
   * A credential in a location: {@code user:password@host}, a {@code password=} (or {@code pwd},
   * {@code secret}, {@code token}, {@code credential}) parameter, Oracle's {@code user/password@}.
   */
  private static final Pattern CREDENTIAL = Pattern.compile("(?i)//[^/:@]*:[^/]+@"
      + "|[?&;:,](?:password|pwd|passwd|secret|token|credential)[a-z_.]*=[^&;,\\s]"
      + "|^jdbc:oracle:[a-z]+:[^/@:]+/[^@]+@");
  private static final Pattern OBJECT_STORE = Pattern.compile("(?i)^(gs|s3|s3a|s3n|abfss?|wasbs?|oss)://.*");

  /** The catalog types that cannot load without a {@code uri}, with an example of one. */
  private static final Map<String, String> URI_EXAMPLES = Map.of(
      "rest", "https://catalog.example.com/api/catalog",
      "jdbc", "jdbc:postgresql://db.example.com:5432/iceberg",
      "nessie", "http://nessie.example.com:19120/api/v2");

  /** Iceberg's catalog types, their classes and the module (not in this build) that holds those it has not. */
  private static final Map<String, String> TYPE_CLASSES = Map.of(
      CatalogUtil.ICEBERG_CATALOG_TYPE_HADOOP, CatalogUtil.ICEBERG_CATALOG_HADOOP,
      CatalogUtil.ICEBERG_CATALOG_TYPE_JDBC, CatalogUtil.ICEBERG_CATALOG_JDBC,
      CatalogUtil.ICEBERG_CATALOG_TYPE_REST, CatalogUtil.ICEBERG_CATALOG_REST,
      CatalogUtil.ICEBERG_CATALOG_TYPE_GLUE, CatalogUtil.ICEBERG_CATALOG_GLUE,
      CatalogUtil.ICEBERG_CATALOG_TYPE_NESSIE, CatalogUtil.ICEBERG_CATALOG_NESSIE,
      CatalogUtil.ICEBERG_CATALOG_TYPE_HIVE, CatalogUtil.ICEBERG_CATALOG_HIVE);
  private static final Map<String, String> TYPE_MODULES = Map.of(
      CatalogUtil.ICEBERG_CATALOG_TYPE_GLUE, "org.apache.iceberg:iceberg-aws with the AWS SDK",
      CatalogUtil.ICEBERG_CATALOG_TYPE_NESSIE, "org.apache.iceberg:iceberg-nessie",
      CatalogUtil.ICEBERG_CATALOG_TYPE_HIVE, "org.apache.iceberg:iceberg-hive-metastore with Hive's metastore client");

  private static final Map<CatalogConfig, Catalog> LOADED = new ConcurrentHashMap<>();

  private final String name;
  private final Map<String, String> properties;
  /** Read where the catalog is loaded (launcher and workers), so that its secrets are never serialized. */
  private final @Nullable String propertiesFile;

  private CatalogConfig(String name, Map<String, String> properties, @Nullable String propertiesFile) {
    this.name = name;
    this.properties = Map.copyOf(properties);
    this.propertiesFile = propertiesFile;
  }

  /**
   * The catalog the options describe.
   *
   * @param type {@code hadoop} (the default), {@code jdbc}, {@code rest}, {@code glue},
   *     {@code nessie}, {@code hive}; ignored when {@code impl} is given
   * @param impl a {@code Catalog} class name (e.g. BigLake's), or null
   * @param warehouse where table data goes; {@code --outputRoot} when null
   * @param extra further catalog properties (e.g. {@code jdbc.user}, {@code jdbc.password})
   */
  public static CatalogConfig of(String name, @Nullable String type, @Nullable String impl, @Nullable String uri,
      @Nullable String warehouse, String outputRoot, Map<String, String> extra) {
    Map<String, String> props = new TreeMap<>(extra);
    String where = warehouse != null && !warehouse.isBlank() ? warehouse : localAbsolute(outputRoot);
    props.put(CatalogProperties.WAREHOUSE_LOCATION, where);
    if (impl != null && !impl.isBlank()) {
      props.put(CatalogProperties.CATALOG_IMPL, impl);
    } else {
      props.put(CatalogUtil.ICEBERG_CATALOG_TYPE, type == null || type.isBlank() ? "hadoop" : type.toLowerCase(Locale.ROOT));
    }
    if (uri != null && !uri.isBlank()) {
      props.put(CatalogProperties.URI, uri);
    }
    if (where.toLowerCase(Locale.ROOT).startsWith("gs://")) {
      props.putIfAbsent(CatalogProperties.FILE_IO_IMPL, "org.apache.iceberg.gcp.gcs.GCSFileIO");
    }
    CatalogConfig config = new CatalogConfig(name, props, null);
    config.check();
    return config;
  }

  /**
   * With further properties (credentials too) from a Java properties file, read each time the
   * catalog is loaded: like a connection's {@code password_file}, only the path travels with the
   * pipeline, and the file must exist at that path wherever the pipeline runs. Checked now, on the
   * launcher, before anything moves: the file readable, and the endpoint a catalog service needs
   * given here or in the file.
   */
  public CatalogConfig withPropertiesFile(@Nullable String file) {
    CatalogConfig config = new CatalogConfig(name, properties, file == null || file.isBlank() ? null : file);
    config.checkEndpoint(config.fileProperties());
    return config;
  }

  /** A Hadoop catalog with this warehouse (tests, tools). */
  public static CatalogConfig hadoop(String warehouse) {
    return of("example", "hadoop", null, null, warehouse, warehouse, Map.of());
  }

  /**
   * The catalog, one per configuration and JVM: a catalog holds connections (a JDBC pool, a REST
   * client) that nothing would close if every worker setup and commit built its own, and Iceberg
   * 1.6's JDBC catalog keeps a query open from its start (on SQLite, a lock that fails every other
   * connection's writes).
   */
  public Catalog load() {
    return LOADED.computeIfAbsent(this, config -> {
      Map<String, String> fromFile = config.fileProperties();
      Map<String, String> all = new TreeMap<>(fromFile);
      all.putAll(config.withFileIoOf(fromFile));
      try {
        return CatalogUtil.buildIcebergCatalog(config.name, all, hadoopConf());
      } catch (RuntimeException e) {
        // Iceberg's message names the failing call, not the catalog (a REST client's GET); it and
        // its causes' may quote the file's secrets (a JDBC driver, its URL): masked, those causes dropped.
        List<String> secrets = new ArrayList<>();
        fromFile.forEach((k, v) -> {
          if (!v.isEmpty() && (SECRET.matcher(k).matches() || CREDENTIAL.matcher(v).find())) {
            secrets.add(v);
          }
        });
        Throwable root = e;
        boolean quoted = false;
        for (Throwable t = e; t != null; t = t.getCause()) {
          root = t;
          quoted |= secrets.stream().anyMatch(String.valueOf(t.getMessage())::contains);
        }
        String why = masked(e.getMessage(), secrets)
            + (quoted && root != e ? " (" + root.getClass().getSimpleName() + ": " + masked(root.getMessage(), secrets) + ")" : "");
        throw new IllegalStateException("Iceberg catalog " + config + " could not be loaded: " + why
            + "; check --catalogType, --catalogUri and --catalogPropertiesFile, and that the catalog answers",
            quoted ? null : e);
      }
    });
  }

  private static String masked(@Nullable String message, List<String> secrets) {
    String masked = String.valueOf(message);
    for (String secret : secrets) {
      masked = masked.replace(secret, "****");
    }
    return masked;
  }

  /** Hadoop's defaults, with {@code file://} through {@link InProcessLocalFileSystem}: no fork per file. */
  private static Configuration hadoopConf() {
    Configuration conf = new Configuration();
    conf.set("fs.file.impl", InProcessLocalFileSystem.class.getName());
    return conf;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CatalogConfig c && name.equals(c.name) && properties.equals(c.properties)
        && Objects.equals(propertiesFile, c.propertiesFile);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, properties, propertiesFile);
  }

  private Map<String, String> fileProperties() {
    Map<String, String> loaded = new TreeMap<>();
    if (propertiesFile == null) {
      return loaded;
    }
    Properties props = new Properties();
    try (Reader in = Files.newBufferedReader(Path.of(propertiesFile))) {
      props.load(in);
    } catch (IOException e) {
      // Only the path travels with the job: on a worker, "readable" alone would blame a file the launcher read.
      throw new ConfigurationException("--catalogPropertiesFile=" + propertiesFile + ": cannot be read here ("
          + e.getClass().getSimpleName() + "); it is read wherever the catalog loads, so give a readable Java"
          + " properties file (key=value lines) at this path on every worker of a remote runner too");
    }
    props.stringPropertyNames().forEach(k -> loaded.put(k, props.getProperty(k)));
    return loaded;
  }

  public String warehouse() {
    return properties.get(CatalogProperties.WAREHOUSE_LOCATION);
  }

  /** A Hadoop catalog, by its type or by its class ({@code --catalogImpl}: the same catalog, the same renames). */
  public boolean isHadoop() {
    String impl = properties.get(CatalogProperties.CATALOG_IMPL);
    return impl != null ? impl.equals(CatalogUtil.ICEBERG_CATALOG_HADOOP)
        : "hadoop".equals(properties.get(CatalogUtil.ICEBERG_CATALOG_TYPE));
  }

  private void check() {
    checkLoadable();
    checkNoCredential("--catalogUri", properties.get(CatalogProperties.URI));
    checkNoCredential("--warehouse", warehouse());
    if (isHadoop() && OBJECT_STORE.matcher(warehouse()).matches()) {
      throw new ConfigurationException("--warehouse/--outputRoot=" + warehouse() + ": a Hadoop catalog commits by"
          + " renaming files, which an object store does not do atomically, so two writers could both"
          + " commit; use a catalog service for an object store warehouse, e.g. --catalogType=rest"
          + " --catalogUri=https://... (or jdbc, or --catalogImpl=... for BigLake)");
    }
  }

  /**
   * The catalog's class is on the class path: else Iceberg failed the run at its start with a bare
   * {@code ClassNotFoundException} (or "Unknown catalog type"), exit 1, naming no option.
   */
  private void checkLoadable() {
    String impl = properties.get(CatalogProperties.CATALOG_IMPL);
    String type = properties.get(CatalogUtil.ICEBERG_CATALOG_TYPE);
    String className = impl != null ? impl : TYPE_CLASSES.get(type);
    if (className == null) {
      throw new ConfigurationException("--catalogType=" + type + ": not an Iceberg catalog type; use one of "
          + new TreeSet<>(TYPE_CLASSES.keySet()) + ", or name a Catalog class with --catalogImpl=...");
    }
    try {
      Class.forName(className, false, CatalogConfig.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new ConfigurationException(impl != null
          ? "--catalogImpl=" + impl + ": no such class on the class path; add the jar that holds it (the bundled jar"
              + " has Iceberg's hadoop, jdbc and rest catalogs only)"
          : "--catalogType=" + type + ": its catalog (" + className + ") is not in this build; add "
              + TYPE_MODULES.get(type) + " to the class path, or use a catalog this build holds (hadoop, jdbc, rest;"
              + " many services, Nessie's included, speak the REST catalog protocol)");
    }
  }

  /**
   * Refuses a credential in an option, without echoing it: the options are printed, and travel
   * with the job (Flink's job graph, Dataflow's job page). The properties file is read where the
   * catalog loads and never serialized.
   */
  private static void checkNoCredential(String option, @Nullable String value) {
    if (value != null && CREDENTIAL.matcher(value).find()) {
      throw new ConfigurationException(option + " holds a credential (a password or token in the location):"
          + " pipeline options are printed and travel with the job, so it would too. Remove it from " + option
          + " and put it in --catalogPropertiesFile instead (a JDBC catalog: jdbc.user=... and jdbc.password=...;"
          + " a REST catalog: credential=... or token=...), which is read where the catalog loads and never sent");
    }
  }

  /** A catalog service's {@code uri}, among the options' properties or the file's. */
  private void checkEndpoint(Map<String, String> fromFile) {
    String type = properties.get(CatalogUtil.ICEBERG_CATALOG_TYPE);
    String example = type == null ? null : URI_EXAMPLES.get(type);
    if (example != null && !properties.containsKey(CatalogProperties.URI) && !fromFile.containsKey(CatalogProperties.URI)) {
      throw new ConfigurationException("--catalogType=" + type + ": a " + type + " catalog needs its endpoint, and"
          + " no --catalogUri is given (nor uri= in --catalogPropertiesFile); add --catalogUri=" + example);
    }
  }

  private static String localAbsolute(String root) {
    return root.contains("://") ? root : Path.of(root).toAbsolutePath().normalize().toString();
  }

  /**
   * These properties, with the properties file's FileIO if it names one: no option names a FileIO,
   * so the file's replaces the default GCSFileIO of a gs:// warehouse.
   */
  private Map<String, String> withFileIoOf(Map<String, String> fromFile) {
    Map<String, String> props = new TreeMap<>(properties);
    if (fromFile.containsKey(CatalogProperties.FILE_IO_IMPL)) {
      props.put(CatalogProperties.FILE_IO_IMPL, fromFile.get(CatalogProperties.FILE_IO_IMPL));
    }
    return props;
  }

  /**
   * The catalog's name and properties (with the properties file's FileIO, the one it loads with),
   * those whose name looks secret masked (a location holds no credential: {@link
   * #checkNoCredential}); of the properties file only its path.
   */
  @Override
  public String toString() {
    Map<String, String> fromFile;
    try {
      fromFile = fileProperties();
    } catch (ConfigurationException e) {
      fromFile = Map.of(); // unreadable here: its path is shown, and loading the catalog says why
    }
    Map<String, String> shown = new TreeMap<>();
    withFileIoOf(fromFile).forEach((k, v) -> shown.put(k, SECRET.matcher(k).matches() ? "****" : v));
    return name + shown + (propertiesFile == null ? "" : " + properties of " + propertiesFile);
  }
}
