package com.example.connector.pipeline;

import com.example.connector.table.SnapshotSummary;
import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.DistributionResult;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.iceberg.Snapshot;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What users see of a run: a progress line while it runs and a summary table at the end, both
 * from the per-table Beam counters ({@code records}, {@code deletes}, {@code pages},
 * {@code retries}, {@code throttled}, and the merge's {@code rows_inserted} and {@code rows_deleted},
 * in the namespace {@code catalog.schema.table}) and the max of the distribution
 * {@code peak_in_flight} (a distribution because its max is reported by every runner, unlike
 * gauges); the summary adds each table's rows and snapshot as committed.
 */
final class Progress {
  private static final List<String> COUNTERS =
      List.of("records", "deletes", "pages", "retries", "throttled", "rows_inserted", "rows_deleted",
          "merge_files_read", "merge_files_skipped");
  private static final String PEAK = "peak_in_flight";

  private Progress() {}

  /**
   * Counter values by destination key, then counter name, summed over steps; and
   * {@code peak_in_flight}, the largest over steps.
   */
  static Map<String, Map<String, Long>> counters(PipelineResult result) {
    Map<String, Map<String, Long>> byTable = new HashMap<>();
    MetricQueryResults metrics;
    try {
      metrics = result.metrics().queryMetrics(MetricsFilter.builder().build());
    } catch (UnsupportedOperationException | IllegalStateException e) {
      return byTable; // some runners report no metrics while running
    }
    for (MetricResult<Long> c : metrics.getCounters()) {
      if (!COUNTERS.contains(c.getName().getName())) {
        continue;
      }
      Long value = attemptedOrCommitted(c);
      byTable
          .computeIfAbsent(c.getName().getNamespace(), k -> new HashMap<>())
          .merge(c.getName().getName(), value == null ? 0L : value, Long::sum);
    }
    for (MetricResult<DistributionResult> d : metrics.getDistributions()) {
      DistributionResult value = attemptedOrCommitted(d);
      if (d.getName().getName().equals(PEAK) && value != null && value.getCount() > 0) {
        byTable
            .computeIfAbsent(d.getName().getNamespace(), k -> new HashMap<>())
            .merge(PEAK, value.getMax(), Math::max);
      }
    }
    return byTable;
  }

  private static <T> T attemptedOrCommitted(MetricResult<T> c) {
    try {
      return c.getCommitted();
    } catch (UnsupportedOperationException e) {
      return c.getAttempted();
    }
  }

  /** The progress line, followed by a detached Flink job's status when there is one. */
  static void line(
      PrintStream out,
      IngestPlan plan,
      Map<String, Map<String, Long>> counters,
      Duration elapsed,
      @Nullable FlinkJobStatus flinkJob) {
    StringBuilder b = new StringBuilder(String.format("[%4ds]", elapsed.toSeconds()));
    for (PlannedTable t : plan.tables()) {
      Map<String, Long> c = counters.getOrDefault(t.destination().key(), Map.of());
      b.append("  ").append(t.destination().table()).append(' ').append(c.getOrDefault("records", 0L));
      if (c.getOrDefault("deletes", 0L) > 0) {
        b.append(" (").append(c.get("deletes")).append(" deletes)");
      }
    }
    if (flinkJob != null) {
      b.append("  (").append(flinkJob.describe()).append(')');
    }
    out.println(b);
  }

  static void summary(PrintStream out, IngestPlan plan, Map<String, Map<String, Long>> counters,
      Map<String, Snapshot> snapshots, Duration elapsed) {
    int width = plan.tables().stream().mapToInt(t -> t.destination().key().length()).max().orElse(0);
    String format = "%-" + Math.max(24, width) + "s %-17s %-11s %9s %8s %7s %8s %9s %10s %10s  %-34s %s%n";
    out.printf(format, "table", "mode", "kept as", "records", "deletes", "pages", "retries",
        "throttled", "peak calls", "table rows", "new cursor", "snapshot");
    for (PlannedTable t : plan.tables()) {
      Map<String, Long> c = counters.getOrDefault(t.destination().key(), Map.of());
      String cursor = t.commit().cursors().getOrDefault("records", "-");
      boolean append = t.merge().appendOnly();
      Snapshot snapshot = snapshots.get(t.destination().key());
      out.printf(
          format,
          t.destination().key(),
          t.context().table().ingestionType().documentedName(),
          append ? "append" : t.merge().scdType().name().toLowerCase(java.util.Locale.ROOT),
          c.getOrDefault("records", 0L),
          c.getOrDefault("deletes", 0L),
          c.getOrDefault("pages", 0L),
          c.getOrDefault("retries", 0L),
          c.getOrDefault("throttled", 0L),
          c.getOrDefault(PEAK, 0L),
          SnapshotSummary.liveRows(snapshot),
          cursor,
          snapshot == null ? "-" : Long.toString(snapshot.snapshotId()));
    }
    out.printf("run %s committed in %.1f s%n", plan.runId(), elapsed.toMillis() / 1000.0);
  }
}
