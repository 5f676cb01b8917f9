package com.example.connector.table;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Commits the run once every table's files are written: the run and all its files meet in one
 * group (a CoGroupByKey on the run id), which a runner emits only when every write has finished,
 * so a run that fails anywhere before commits nothing. One step, on one worker, commits every
 * table ({@link TableCommitter}).
 *
 * <p>Not a side input of the files: a run that wrote no file has an empty view, which the
 * DirectRunner marks ready only from a watermark callback that does not wake its scheduler, so the
 * commit, pushed back until then, was sometimes never retried and the run never ended (Beam 2.62).
 */
public class CommitTables extends PTransform<PBegin, PCollection<String>> {
  private static final TupleTag<RunCommit> RUN = new TupleTag<>() {};
  private static final TupleTag<WrittenFile> FILES = new TupleTag<>() {};

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
    PCollection<WrittenFile> all = PCollectionList.of(written).apply("All written files", Flatten.pCollections());
    PCollection<KV<String, WrittenFile>> files = all.apply("Keyed by run", WithKeys.of(run.runId()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), all.getCoder()));
    PCollection<KV<String, RunCommit>> runs = begin.apply("Run", Create.of(KV.of(run.runId(), run))
        .withCoder(KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(RunCommit.class))));
    return KeyedPCollectionTuple.of(RUN, runs).and(FILES, files)
        .apply("Run with its files", CoGroupByKey.create())
        .apply("Commit tables and cursors", ParDo.of(new CommitFn(committer)));
  }

  private static class CommitFn extends DoFn<KV<String, CoGbkResult>, String> {
    private final TableCommitter committer;

    CommitFn(TableCommitter committer) {
      this.committer = committer;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> group, OutputReceiver<String> out) {
      RunCommit run = group.getValue().getOnly(RUN);
      List<WrittenFile> files = new ArrayList<>();
      group.getValue().getAll(FILES).forEach(files::add);
      committer.commit(run, files);
      out.output(run.runId());
    }
  }
}
