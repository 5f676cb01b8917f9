package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import org.apache.beam.runners.dataflow.DataflowRunner;
import org.apache.beam.runners.dataflow.options.DataflowPipelineOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.extensions.gcp.options.GcsOptions;
import org.apache.beam.sdk.extensions.gcp.util.gcsfs.GcsPath;
import org.apache.beam.sdk.options.PipelineOptions;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Pre-flight checks of the runner options against where the job will run, before the embedded
 * source starts and before anything is read: a run that cannot work fails here in seconds with
 * the option to fix, instead of hanging in GCS retries or failing on a worker.
 */
final class RunnerChecks {
  /** runner-configs/dataflow's and README's placeholders: a run with them can only hang. */
  static final Set<String> PLACEHOLDER_PROJECTS = Set.of("my-gcp-project", "MY_PROJECT");

  static final Set<String> PLACEHOLDER_BUCKETS = Set.of("my-bucket", "MY_BUCKET");
  static final String PLACEHOLDER_CATALOG_HOST = "my-iceberg-catalog.example.com";

  private static final Pattern URI_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://.*");
  private static final String FLINK_CLASS = "org.apache.flink.api.common.ExecutionConfig";

  private RunnerChecks() {}

  /** Where the pipeline's workers run, as far as reaching files and the source goes. */
  enum Target {
    /** In this JVM: DirectRunner, Flink [local] / [auto]. */
    THIS_JVM,
    /** A Flink cluster whose master is on loopback: its workers share this machine. */
    THIS_MACHINE,
    /** Dataflow, or a Flink cluster on another host. */
    REMOTE;

    static Target of(IngestOptions options) {
      if (isDataflow(options)) {
        return REMOTE;
      }
      if (!FlinkRunner.class.isAssignableFrom(options.getRunner())) {
        return THIS_JVM;
      }
      String master = options.as(FlinkPipelineOptions.class).getFlinkMaster();
      if (isEmbeddedFlink(master)) {
        return THIS_JVM;
      }
      return isLoopback(masterHost(master)) ? THIS_MACHINE : REMOTE;
    }
  }

  /**
   * The host of a Flink master (host:port, an http(s):// before it dropped, as Beam's Flink runner
   * reads it), parsed as the HTTP client parses base_url: java.net.URI takes a name with '_' (a
   * Docker name) for no host at all.
   */
  static String masterHost(String master) {
    HttpUrl url = HttpUrl.parse("http://" + master.strip().replaceFirst("(?i)^https?://", ""));
    if (url == null) {
      throw new ConfigurationException("--flinkMaster=" + master + ": names no host; give the JobManager's REST"
          + " address as host:port, e.g. --flinkMaster=localhost:8081, or [local] for an embedded cluster");
    }
    return url.host();
  }

  /** Every check, in the order a user would fix them; throws on the first that fails. */
  static void check(IngestOptions options, Connection connection) {
    if (isDataflow(options)) {
      checkDataflowPlaceholders(options.as(DataflowPipelineOptions.class));
    }
    if (Target.of(options) == Target.REMOTE) {
      checkOutputRootShared(options);
      checkSourceReachableFromWorkers(options, connection);
    }
    if (isEmbeddedFlink(options)) {
      checkEmbeddedFlinkCanLoadTheJob(ClassLoader.getSystemClassLoader());
      checkEmbeddedFlinkAttached(options.as(FlinkPipelineOptions.class));
    }
    checkBucket(warehouseOption(options), warehouse(options), options);
    checkBucket("--tempLocation", options.getTempLocation(), options);
    if (isDataflow(options)) {
      checkDataflowRunnerOptions(options.as(DataflowPipelineOptions.class), options);
    }
  }

  /**
   * The staging location's bucket, then DataflowRunner's own checks (its region, project ID, a
   * gs:// temp location, the files to stage...): Beam runs them only when the pipeline is created,
   * after the run had read the source and created its tables, and a bad temp location failed here
   * as a stack trace.
   */
  static void checkDataflowRunnerOptions(DataflowPipelineOptions dataflow, IngestOptions options) {
    // Read only now: unset, it defaults from --tempLocation, whose bucket is checked above.
    String staging = acceptedByDataflow(dataflow::getStagingLocation);
    checkNoPlaceholderBucket("--stagingLocation", staging);
    checkBucket("--stagingLocation", staging, options);
    acceptedByDataflow(() -> DataflowRunner.fromOptions(dataflow));
  }

  /** What {@code beamCheck} returns; Beam's refusal, with its reason, as a configuration error. */
  private static <T> T acceptedByDataflow(Supplier<T> beamCheck) {
    try {
      return beamCheck.get();
    } catch (RuntimeException e) {
      Throwable root = IngestMain.root(e);
      throw new ConfigurationException("DataflowRunner refuses the options: " + String.valueOf(e.getMessage()).strip()
          + (root == e ? "" : " (" + root.getMessage() + ")") + "; a Dataflow run needs --project, --region and a"
          + " gs:// --tempLocation (see runner-configs/dataflow)", e);
    }
  }

  static void checkDataflowPlaceholders(DataflowPipelineOptions options) {
    String project = options.getProject();
    if (project == null || project.isBlank() || PLACEHOLDER_PROJECTS.contains(project)) {
      throw new ConfigurationException(
          "--project=" + (project == null ? "" : project) + ": "
              + (project == null || project.isBlank() ? "not set" : "the placeholder of runner-configs/dataflow")
              + "; DataflowRunner needs your GCP project: add --project=YOUR_PROJECT to the command line");
    }
    checkNoPlaceholderBucket("--tempLocation", options.getTempLocation());
    IngestOptions ingest = options.as(IngestOptions.class);
    checkNoPlaceholderBucket(warehouseOption(ingest), warehouse(ingest));
    String uri = ingest.getCatalogUri();
    if (uri != null && uri.contains(PLACEHOLDER_CATALOG_HOST)) {
      throw new ConfigurationException("--catalogUri=" + uri + ": the placeholder of runner-configs/dataflow; add"
          + " --catalogUri=... naming your Iceberg catalog service (e.g. a REST catalog every worker reaches)");
    }
  }

  /** Where the tables' data goes: {@code --warehouse}, else {@code --outputRoot}. */
  static String warehouse(IngestOptions options) {
    return options.getWarehouse() != null ? options.getWarehouse() : options.getOutputRoot();
  }

  private static String warehouseOption(IngestOptions options) {
    return options.getWarehouse() != null ? "--warehouse" : "--outputRoot";
  }

  private static void checkNoPlaceholderBucket(String option, @Nullable String location) {
    if (location != null && location.startsWith("gs://")
        && PLACEHOLDER_BUCKETS.contains(GcsPath.fromUri(location).getBucket())) {
      throw new ConfigurationException(
          option + "=" + location + ": the placeholder bucket of runner-configs/dataflow; add "
              + option + "=gs://YOUR_BUCKET/... to the command line (a bucket the job's service"
              + " account can write)");
    }
  }

  /** Workers elsewhere cannot write this machine's disk: the commit would find nothing. */
  static void checkOutputRootShared(IngestOptions options) {
    String root = warehouse(options);
    String option = warehouseOption(options);
    if (!URI_SCHEME.matcher(root).matches() || root.startsWith("file:")) {
      throw new ConfigurationException(
          option + "=" + root + ": a local path, but " + runnerName(options)
              + " runs the job on workers that cannot write this machine's disk; put the tables on a"
              + " file system every worker shares: a catalog service and --warehouse=gs://YOUR_BUCKET/warehouse"
              + " (see runner-configs/dataflow), or an hdfs:// --outputRoot");
    }
  }

  /** The embedded source listens on this machine's loopback, which remote workers cannot reach. */
  static void checkSourceReachableFromWorkers(IngestOptions options, Connection connection) {
    URI baseUrl = connection.baseUrl();
    if (baseUrl == null || isLoopback(Connection.host(baseUrl))) {
      throw new ConfigurationException(
          "connection '" + connection.name() + "': "
              + (baseUrl == null
                  ? "no base_url, so the pipeline would start the embedded source on this machine's 127.0.0.1"
                  : "base_url " + baseUrl + " is a loopback address")
              + ", which the workers of " + runnerName(options) + " cannot reach; run the standalone"
              + " source (com.example.source.ExampleSourceMain --bind 0.0.0.0) where the workers can"
              + " reach it and set base_url in the connection to its address");
    }
  }

  /**
   * Flink's embedded cluster loads a job that ships no jars from the JVM's system class loader;
   * under {@code mvn exec:java} that holds only Maven's launcher, and the job would fail with
   * {@code ClassNotFoundException: org.apache.flink.api.common.ExecutionConfig}.
   */
  static void checkEmbeddedFlinkCanLoadTheJob(ClassLoader system) {
    try {
      Class.forName(FLINK_CLASS, false, system);
    } catch (ClassNotFoundException e) {
      throw new ConfigurationException(
          "--flinkMaster=[local]: Flink's embedded cluster loads the job from the JVM's system class"
              + " loader, which here (mvn exec:java) does not hold the project's classes; run"
              + " mvn -q compile exec:exec@run -Dexec.args=\"...\" (a forked JVM) or"
              + " java -jar target/example-connector-0.1.0-SNAPSHOT-bundled.jar ...");
    }
  }

  /**
   * An embedded cluster lives and ends in this JVM, and has no REST address that a detached job
   * could be followed at: detached, the launcher failed at once while its job ran on. Nor does it
   * take {@code --savepointPath}.
   */
  static void checkEmbeddedFlinkAttached(FlinkPipelineOptions flink) {
    if (!flink.getAttachedMode()) {
      throw new ConfigurationException("--attachedMode=false: --flinkMaster=" + flink.getFlinkMaster() + " runs an"
          + " embedded Flink cluster inside this JVM, which ends with it, so it runs attached; drop"
          + " --attachedMode=false, or submit to a cluster with --flinkMaster=HOST:PORT");
    }
    if (flink.getSavepointPath() != null) {
      // Beam's Flink runner applies it to a cluster only: an embedded job would start afresh, silently.
      throw new ConfigurationException("--savepointPath: --flinkMaster=" + flink.getFlinkMaster() + " runs an"
          + " embedded Flink cluster, which does not restore savepoints; drop --savepointPath (each table then"
          + " resumes from the cursors it committed), or resume on the cluster that took it with --flinkMaster=HOST:PORT");
    }
  }

  /**
   * A gs:// location's bucket answers within --preflightTimeoutSeconds: GCS retries an
   * unreachable or unknown bucket for minutes without a message.
   */
  static void checkBucket(String option, @Nullable String location, IngestOptions options) {
    if (location == null || !location.startsWith("gs://")) {
      return;
    }
    GcsPath bucket = GcsPath.fromComponents(GcsPath.fromUri(location).getBucket(), null);
    GcsOptions gcs = options.as(GcsOptions.class);
    FutureTask<?> lookup = new FutureTask<>(() -> gcs.getGcsUtil().getBucket(bucket));
    Thread thread = new Thread(lookup, "preflight " + bucket);
    thread.setDaemon(true);
    thread.start();
    int timeout = options.getPreflightTimeoutSeconds();
    String prefix = option + "=" + location + ": bucket " + bucket;
    try {
      lookup.get(timeout, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      lookup.cancel(true);
      throw new ConfigurationException(
          prefix + " did not answer within " + timeout + " s; check the bucket name, the network"
              + " and the credentials (gcloud auth application-default login), or allow longer"
              + " with --preflightTimeoutSeconds");
    } catch (ExecutionException e) {
      throw new ConfigurationException(prefix + bucketProblem(e.getCause()), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConfigurationException(prefix + ": interrupted while checking it", e);
    }
  }

  private static String bucketProblem(Throwable cause) {
    if (cause instanceof FileNotFoundException) {
      return " does not exist; create it (gcloud storage buckets create) or name an existing bucket";
    }
    if (cause instanceof AccessDeniedException) {
      return ": access denied to these credentials; grant them access or use another bucket";
    }
    String detail = cause instanceof IOException && cause.getCause() != null
        ? cause.getCause().toString()
        : String.valueOf(cause);
    return ": cannot be checked (" + detail + "); check the network and the credentials"
        + " (gcloud auth application-default login)";
  }

  /** Whether {@code options} run on Flink's embedded cluster, in this JVM. */
  static boolean isEmbeddedFlink(PipelineOptions options) {
    return FlinkRunner.class.isAssignableFrom(options.getRunner())
        && isEmbeddedFlink(options.as(FlinkPipelineOptions.class).getFlinkMaster());
  }

  static boolean isEmbeddedFlink(@Nullable String master) {
    return master == null || master.equals("[local]") || master.equals("[auto]") || master.equals("[collection]");
  }

  static boolean isLoopback(@Nullable String host) {
    if (host == null) {
      return true;
    }
    String h = host.toLowerCase(Locale.ROOT).replace("[", "").replace("]", "");
    return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("0.0.0.0");
  }

  private static boolean isDataflow(IngestOptions options) {
    return DataflowRunner.class.isAssignableFrom(options.getRunner());
  }

  private static String runnerName(IngestOptions options) {
    if (isDataflow(options)) {
      return "DataflowRunner";
    }
    return "the Flink cluster at " + options.as(FlinkPipelineOptions.class).getFlinkMaster();
  }
}
