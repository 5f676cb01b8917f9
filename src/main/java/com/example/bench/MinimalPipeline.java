package com.example.bench;

import com.example.connector.pipeline.EmbeddedFlinkFiles;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * A runner's floor: the smallest Beam pipeline with a shuffle (eight numbers, a map, a
 * reshuffle, a sum), run with the same options as the connector (on Flink embedded, with the
 * configuration a connector run gives its cluster: {@link EmbeddedFlinkFiles}). What any Beam job
 * on that runner costs before it reads a record, so that a benchmark can tell the runner's fixed
 * cost from the connector's. With a wait, one number's map first waits that long, as a read waits on
 * a slow API's answer: what the runner itself costs while its work waits.
 */
public final class MinimalPipeline {
  /** What it is, for a benchmark's report. */
  public static final String DESCRIPTION = "a minimal Beam pipeline (8 numbers: map, reshuffle, sum)";

  private MinimalPipeline() {}

  /**
   * Runs it to its end with these pipeline options (a runner config's), the map of number 1
   * waiting {@code waitMillis} first; fails unless it ends DONE.
   */
  public static void run(String[] options, long waitMillis) {
    PipelineOptions pipelineOptions = PipelineOptionsFactory.fromArgs(options).create();
    Pipeline pipeline = Pipeline.create(pipelineOptions);
    pipeline
        .apply("Numbers", Create.of(1, 2, 3, 4, 5, 6, 7, 8))
        .apply("Next", MapElements.into(TypeDescriptors.integers()).via((Integer n) -> {
          if (n == 1) {
            sleep(waitMillis);
          }
          return n + 1;
        }))
        .apply("Spread", Reshuffle.viaRandomKey())
        .apply("Sum", Sum.integersGlobally());
    PipelineResult.State state;
    try (EmbeddedFlinkFiles flinkFiles = EmbeddedFlinkFiles.of(pipelineOptions, "minimal")) {
      state = pipeline.run().waitUntilFinish();
    }
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException("the minimal pipeline ended " + state);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting", e);
    }
  }
}
