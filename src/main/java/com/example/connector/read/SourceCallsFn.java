package com.example.connector.read;

import com.example.connector.client.ExampleClient;
import com.example.connector.ParallelCalls;
import org.apache.beam.sdk.transforms.DoFn;

/**
 * A DoFn that calls a table's source: per instance, a client whose calls are counted ({@link
 * TableCalls}) and threads to make calls side by side ({@link ParallelCalls}), opened in
 * {@code @Setup} and closed in {@code @Teardown}. The split DoFns ({@link SplitRangesFn}) probe
 * with them, the read DoFns ({@link SourceReadFn}) read with them.
 */
// Public: a package-private base would make javac add bridge methods with raw types, which Beam's
// signature checks reject.
public abstract class SourceCallsFn<InputT, OutputT> extends DoFn<InputT, OutputT> {
  protected final ReadContext context;
  protected final TableCalls calls;
  /** What the threads are named after: what they call for. */
  private final String purpose;

  protected transient ExampleClient client;
  protected transient ParallelCalls parallel;

  protected SourceCallsFn(ReadContext context, String purpose) {
    this.context = context;
    this.calls = new TableCalls(context);
    this.purpose = purpose;
  }

  @Setup
  public void setup() {
    client = calls.open();
    parallel = new ParallelCalls(purpose + " " + context.metricsNamespace());
  }

  @Teardown
  public void teardown() {
    if (parallel != null) {
      parallel.close();
    }
    if (client != null) {
      client.close();
    }
  }
}
