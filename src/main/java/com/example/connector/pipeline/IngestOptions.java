package com.example.connector.pipeline;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.StreamingOptions;

/** The connector's pipeline options, beside the runner's own. None of them holds a secret. */
public interface IngestOptions extends StreamingOptions {

  @Description(
      "A file of pipeline options, one --option=value per line (e.g. runner-configs/flink-local);"
          + " options given on the command line override it.")
  String getRunnerConfig();

  void setRunnerConfig(String value);

  @Description("The pipeline spec (JSON), e.g. pipelines/example_ingest.json.")
  String getSpec();

  void setSpec(String value);

  @Description(
      "The connection file. Default: connections/<connection_name>.json beside the spec file.")
  String getConnection();

  void setConnection(String value);

  @Description(
      "The warehouse of the default Hadoop catalog (a local or HDFS path), where the tables live;"
          + " with --catalogType or --catalogImpl, the default --warehouse.")
  @Default.String("output")
  String getOutputRoot();

  void setOutputRoot(String value);

  @Description(
      "The Iceberg catalog's type, as Iceberg's CatalogUtil knows it: hadoop (the default: no server,"
          + " warehouse --outputRoot), jdbc, rest, glue, nessie, hive.")
  @Default.String("hadoop")
  String getCatalogType();

  void setCatalogType(String value);

  @Description("A Catalog class to load instead of a --catalogType (e.g. BigLake's).")
  String getCatalogImpl();

  void setCatalogImpl(String value);

  @Description("The catalog's uri (a REST catalog's URL, a JDBC URL, a Nessie endpoint).")
  String getCatalogUri();

  void setCatalogUri(String value);

  @Description("Where the catalog puts table data (default: --outputRoot).")
  String getWarehouse();

  void setWarehouse(String value);

  @Description(
      "A Java properties file of further catalog properties (credentials too: it is read when the"
          + " run starts, and its values are never printed), e.g. jdbc.user and jdbc.password.")
  String getCatalogPropertiesFile();

  void setCatalogPropertiesFile(String value);

  @Description("The catalog of tables whose spec sets no destination_catalog.")
  @Default.String("main")
  String getDefaultCatalog();

  void setDefaultCatalog(String value);

  @Description("The schema of tables whose spec sets no destination_schema.")
  @Default.String("example")
  String getDefaultSchema();

  void setDefaultSchema(String value);

  @Description("Attempts per source call on 429, 500, 503 or a connection failure.")
  @Default.Integer(5)
  int getRetryMaxAttempts();

  void setRetryMaxAttempts(int value);

  @Description("Backoff before the first retry, in milliseconds; it doubles per attempt.")
  @Default.Long(1000)
  long getRetryInitialBackoffMillis();

  void setRetryInitialBackoffMillis(long value);

  @Description("Seconds between progress lines while the pipeline runs (0: none).")
  @Default.Integer(5)
  int getProgressIntervalSeconds();

  void setProgressIntervalSeconds(int value);

  @Description(
      "Validate everything (options, spec, connection, source, runner) and print the job graph the"
          + " runner would get, without submitting it or writing anything.")
  @Default.Boolean(false)
  boolean getDryRun();

  void setDryRun(boolean value);

  @Description(
      "Seconds the pre-flight checks wait for a gs:// bucket of --warehouse (or --outputRoot),"
          + " --tempLocation or --stagingLocation to answer before refusing the run; at least 1.")
  @Default.Integer(20)
  int getPreflightTimeoutSeconds();

  void setPreflightTimeoutSeconds(int value);

  @Description(
      "With --streaming=true: seconds between two polls of a cursor feed once it has caught up. Each"
          + " poll costs a call per feed (the source's clock) plus a page per feed with new records.")
  @Default.Integer(5)
  int getPollIntervalSeconds();

  void setPollIntervalSeconds(int value);

  @Description(
      "With --streaming=true: seconds between two commits of a table (each commit is an Iceberg"
          + " snapshot; the table is fresh to within poll + commit interval).")
  @Default.Integer(10)
  int getCommitIntervalSeconds();

  void setCommitIntervalSeconds(int value);

  @Description(
      "With --streaming=true: seconds between two full reads of a snapshot table (products); keys"
          + " gone from a snapshot become deletes.")
  @Default.Integer(300)
  int getSnapshotIntervalSeconds();

  void setSnapshotIntervalSeconds(int value);
}
