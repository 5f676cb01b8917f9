package com.example.connector.continuous;

import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Gauge;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;

/**
 * Counts a table's commits ({@link CommitIntervalsFn}'s output: rows committed, lowest cursor in
 * milliseconds) as Beam metrics in the table's namespace: counters {@code commits} and
 * {@code rows_committed}, gauges {@code committed_cursor_millis} and {@code last_commit_millis}.
 */
public class CommitMetricsFn extends DoFn<KV<Long, Long>, Void> {
  private final Counter commits;
  private final Counter rowsCommitted;
  private final Gauge committedCursor;
  private final Gauge lastCommit;

  public CommitMetricsFn(String table) {
    this.commits = Metrics.counter(table, "commits");
    this.rowsCommitted = Metrics.counter(table, "rows_committed");
    this.committedCursor = Metrics.gauge(table, "committed_cursor_millis");
    this.lastCommit = Metrics.gauge(table, "last_commit_millis");
  }

  @ProcessElement
  public void process(@Element KV<Long, Long> commit) {
    commits.inc();
    rowsCommitted.inc(commit.getKey());
    committedCursor.set(commit.getValue());
    lastCommit.set(System.currentTimeMillis());
  }
}
