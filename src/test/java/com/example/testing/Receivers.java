package com.example.testing;

import java.util.List;
import org.apache.beam.sdk.transforms.DoFn.OutputReceiver;
import org.joda.time.Instant;

/** Receivers of what a DoFn called directly outputs, as a runner's would take it. */
public final class Receivers {
  private Receivers() {}

  /** Adds each output to {@code outputs}. */
  public static <T> OutputReceiver<T> into(List<T> outputs) {
    return new OutputReceiver<>() {
      @Override
      public void output(T output) {
        outputs.add(output);
      }

      @Override
      public void outputWithTimestamp(T output, Instant timestamp) {
        output(output);
      }
    };
  }

  /** Adds the elements of each output (a chunk of rows) to {@code elements}. */
  public static <T> OutputReceiver<List<T>> allInto(List<T> elements) {
    return new OutputReceiver<>() {
      @Override
      public void output(List<T> chunk) {
        elements.addAll(chunk);
      }

      @Override
      public void outputWithTimestamp(List<T> chunk, Instant timestamp) {
        output(chunk);
      }
    };
  }
}
