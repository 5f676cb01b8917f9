package com.example.connector.sink;

import java.util.List;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionView;

/**
 * Commits the run once every table's staged files are durable: the commit takes the names of
 * all of them as a side input, which is ready only when every write has finished, so a run that
 * fails anywhere before commits nothing.
 */
public class CommitRun extends PTransform<PBegin, PCollection<String>> {
  private final RunCommit run;
  private final Committer committer;
  private final List<PCollection<StagedFile>> staged;

  public CommitRun(RunCommit run, Committer committer, List<PCollection<StagedFile>> staged) {
    this.run = run;
    this.committer = committer;
    this.staged = List.copyOf(staged);
  }

  @Override
  public PCollection<String> expand(PBegin begin) {
    PCollectionView<List<StagedFile>> files =
        PCollectionList.of(staged)
            .apply("All staged files", Flatten.pCollections())
            .apply("As one list", View.asList());
    return begin
        .apply("Run", Create.of(run).withCoder(SerializableCoder.of(RunCommit.class)))
        .apply("Commit tables and cursors", ParDo.of(new CommitFn(committer, files)).withSideInputs(files));
  }

  private static class CommitFn extends DoFn<RunCommit, String> {
    private final Committer committer;
    private final PCollectionView<List<StagedFile>> files;

    CommitFn(Committer committer, PCollectionView<List<StagedFile>> files) {
      this.committer = committer;
      this.files = files;
    }

    @ProcessElement
    public void process(@Element RunCommit run, OutputReceiver<String> out, ProcessContext context) {
      committer.commit(run, context.sideInput(files));
      out.output(run.runId());
    }
  }
}
