package com.example.connector.read;

import com.example.connector.client.ExampleClient;
import java.io.Serializable;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;

/**
 * A table's calls to the source, as every DoFn that makes them counts them: the client a DoFn
 * instance opens in {@code @Setup}, and the table's metrics {@code pages}, {@code retries},
 * {@code throttled} (attempts answered 429/503 or held by a connection-wide Retry-After) and the
 * distribution {@code peak_in_flight} (the connection's calls in flight as each call starts).
 */
final class TableCalls implements Serializable {
  private final ReadContext context;
  private final Counter pages;
  private final Counter retries;
  private final Counter throttled;
  private final Distribution inFlight;

  TableCalls(ReadContext context) {
    this.context = context;
    this.pages = Metrics.counter(context.metricsNamespace(), "pages");
    this.retries = Metrics.counter(context.metricsNamespace(), "retries");
    this.throttled = Metrics.counter(context.metricsNamespace(), "throttled");
    this.inFlight = Metrics.distribution(context.metricsNamespace(), "peak_in_flight");
  }

  /** A client of the table's connection whose retries and call-budget events are counted. */
  ExampleClient open() {
    return ExampleClient.create(context.source(), new Events());
  }

  Counter pages() {
    return pages;
  }

  private final class Events implements ExampleClient.RetryListener {
    @Override
    public void onRetry(String path, String reason) {
      retries.inc();
    }

    @Override
    public void onCallStarted(String path, int calls) {
      inFlight.update(calls);
    }

    @Override
    public void onThrottled(String path) {
      throttled.inc();
    }
  }
}
