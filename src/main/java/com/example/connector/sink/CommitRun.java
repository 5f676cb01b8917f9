package com.example.connector.sink;

import java.util.List;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Wait;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/**
 * Commits the run once every table's staged files are durable: Beam's {@link Wait} holds the
 * commit until all the {@code signals} (the staged file names of each table) are complete, so a
 * run that fails anywhere before commits nothing.
 */
public class CommitRun extends PTransform<PBegin, PCollection<String>> {
  private final RunCommit run;
  private final Committer committer;
  private final List<PCollection<?>> signals;

  public CommitRun(RunCommit run, Committer committer, List<PCollection<?>> signals) {
    this.run = run;
    this.committer = committer;
    this.signals = List.copyOf(signals);
  }

  @Override
  public PCollection<String> expand(PBegin begin) {
    return begin
        .apply("Run", Create.of(run).withCoder(SerializableCoder.of(RunCommit.class)))
        .apply("After all tables are staged", Wait.on(signals))
        .apply("Commit tables and cursors", ParDo.of(new CommitFn(committer)));
  }

  private static class CommitFn extends DoFn<RunCommit, String> {
    private final Committer committer;

    CommitFn(Committer committer) {
      this.committer = committer;
    }

    @ProcessElement
    public void process(@Element RunCommit run, OutputReceiver<String> out) {
      committer.commit(run);
      out.output(run.runId());
    }
  }
}
