package com.example.connector.pipeline;

import com.example.connector.ConfigurationException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.options.ApplicationNameOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * The connector's pipeline options, checked before anything is read or written: each error
 * names the option, what was wrong and what to write instead.
 */
final class OptionChecks {
  /** The longest first backoff: an hour (it doubles up to 30 s or itself, whichever is more). */
  private static final long MAX_INITIAL_BACKOFF_MILLIS = 3_600_000;
  /** A URI's scheme as Beam's FileSystems reads it; {@code file:} and plain paths are local. */
  private static final Pattern SCHEME = Pattern.compile("^([a-zA-Z][-a-zA-Z0-9+.]*):/");

  /** The app's name, which Beam's default job names start with. */
  static final String APP_NAME = "ExampleConnector";

  private OptionChecks() {}

  /** Beam's parse of {@code args}; its errors (an unknown option, a bad value) are configuration errors. */
  static <T extends PipelineOptions> T parse(String[] args, Class<T> type) {
    try {
      T options = PipelineOptionsFactory.fromArgs(args).withValidation().as(type);
      // Beam names the app, and so the default job name (Dataflow's, Flink's), after the class that
      // parsed the options: this one, "optionchecks-USER-TIME".
      if (Arrays.stream(args).noneMatch(a -> a.startsWith("--appName"))) {
        options.as(ApplicationNameOptions.class).setAppName(APP_NAME);
      }
      return options;
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException("pipeline options: " + e.getMessage().replaceFirst("\\.$", "")
          + "; see --help=" + type.getSimpleName() + " for the options");
    }
  }

  static void check(IngestOptions options) {
    if (options.getSpec() == null || options.getSpec().isBlank()) {
      throw new ConfigurationException(
          "--spec is required: the pipeline spec (its tables and connection),"
              + " e.g. --spec=pipelines/example_ingest.json");
    }
    range("--retryMaxAttempts", options.getRetryMaxAttempts(), 1, Integer.MAX_VALUE,
        "attempts per source call, the first included, e.g. --retryMaxAttempts=5");
    range("--retryInitialBackoffMillis", options.getRetryInitialBackoffMillis(), 0,
        MAX_INITIAL_BACKOFF_MILLIS, "milliseconds before the first retry, e.g. --retryInitialBackoffMillis=1000");
    range("--progressIntervalSeconds", options.getProgressIntervalSeconds(), 0, Integer.MAX_VALUE,
        "seconds between progress lines, 0 for none, e.g. --progressIntervalSeconds=5");
    range("--pollIntervalSeconds", options.getPollIntervalSeconds(), 1, 86_400,
        "seconds between two polls of a feed in a continuous run, e.g. --pollIntervalSeconds=5");
    range("--commitIntervalSeconds", options.getCommitIntervalSeconds(), 1, 86_400,
        "seconds between two commits of a table in a continuous run, e.g. --commitIntervalSeconds=10");
    range("--snapshotIntervalSeconds", options.getSnapshotIntervalSeconds(), 1, 86_400 * 7,
        "seconds between two reads of a snapshot table in a continuous run, e.g. --snapshotIntervalSeconds=300");
    // 0 or less would fail a gs:// bucket's check at once, blaming the bucket rather than this option.
    range("--preflightTimeoutSeconds", options.getPreflightTimeoutSeconds(), 1, Integer.MAX_VALUE,
        "seconds the pre-flight checks wait for a gs:// bucket to answer, e.g. --preflightTimeoutSeconds=20");
    DestinationNames.check(Objects.toString(options.getDefaultCatalog(), ""), "--defaultCatalog");
    DestinationNames.check(Objects.toString(options.getDefaultSchema(), ""), "--defaultSchema");
    outputRoot(Objects.toString(options.getOutputRoot(), ""));
    // The catalog's own errors (a Hadoop catalog on an object store, an unreadable properties
    // file) need no network: before the runner checks, which may wait on a bucket.
    CatalogOptions.config(options);
  }

  /** {@code value} from {@code min} to {@code max}; a max of {@link Integer#MAX_VALUE} or more reads as none. */
  static void range(String option, long value, long min, long max, String meaning) {
    if (value < min || value > max) {
      throw new ConfigurationException(
          option + "=" + value + ": must be " + (max >= Integer.MAX_VALUE ? "at least " + min
              : "from " + min + " to " + max) + "; it is the " + meaning);
    }
  }

  /**
   * A local output root must be a writable directory, or creatable as one: checked by creating
   * it and a probe file, then removing both. Other schemes are left to their file system.
   */
  private static void outputRoot(String root) {
    if (root.isBlank()) {
      throw outputRootError(root, "is empty", "give a directory or a FileSystems URI, e.g. --outputRoot=output");
    }
    Matcher scheme = SCHEME.matcher(root);
    if (scheme.lookingAt() && !scheme.group(1).equalsIgnoreCase("file")) {
      return;
    }
    Path dir = (scheme.lookingAt() ? Path.of(URI.create(root)) : Path.of(root)).toAbsolutePath();
    Path existing = dir;
    while (!Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (!Files.isDirectory(existing)) {
      throw outputRootError(root, existing.equals(dir) ? "is a file, not a directory"
          : "is under " + existing + ", which is a file, not a directory", "choose a directory");
    }
    try {
      Files.createDirectories(dir);
      Files.delete(Files.createTempFile(dir, ".outputRoot-probe-", ""));
    } catch (IOException | SecurityException e) {
      throw outputRootError(root, "cannot be written (" + e.getClass().getSimpleName() + ": "
          + e.getMessage() + ")", "choose a directory this user can create and write to");
    } finally {
      removeCreated(dir, existing);
    }
  }

  /** Removes the directories the probe created, deepest first, so a refused run leaves nothing. */
  private static void removeCreated(Path dir, Path existing) {
    for (Path p = dir; !p.equals(existing); p = p.getParent()) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        return; // not empty (another process wrote there): it is not ours to remove
      }
    }
  }

  private static ConfigurationException outputRootError(String root, String what, String fix) {
    return new ConfigurationException("--outputRoot=" + root + ": " + what + "; " + fix);
  }
}
