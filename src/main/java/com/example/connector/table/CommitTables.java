package com.example.connector.table;

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
 * Commits the run once every table's files are written: the commit takes all of them as a side
 * input, which is ready only when every write has finished, so a run that fails anywhere before
 * commits nothing. One step, on one worker, commits every table ({@link TableCommitter}).
 */
public class CommitTables extends PTransform<PBegin, PCollection<String>> {
  private final RunCommit run;
  private final TableCommitter committer;
  private final List<PCollection<WrittenFile>> written;

  public CommitTables(RunCommit run, TableCommitter committer, List<PCollection<WrittenFile>> written) {
    this.run = run;
    this.committer = committer;
    this.written = List.copyOf(written);
  }

  @Override
  public PCollection<String> expand(PBegin begin) {
    PCollectionView<List<WrittenFile>> files =
        PCollectionList.of(written)
            .apply("All written files", Flatten.pCollections())
            .apply("As one list", View.asList());
    return begin
        .apply("Run", Create.of(run).withCoder(SerializableCoder.of(RunCommit.class)))
        .apply("Commit tables and cursors", ParDo.of(new CommitFn(committer, files)).withSideInputs(files));
  }

  private static class CommitFn extends DoFn<RunCommit, String> {
    private final TableCommitter committer;
    private final PCollectionView<List<WrittenFile>> files;

    CommitFn(TableCommitter committer, PCollectionView<List<WrittenFile>> files) {
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
