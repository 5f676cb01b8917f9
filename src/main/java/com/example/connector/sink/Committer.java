package com.example.connector.sink;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits a run's staged files and cursors together, and recovers from a run that died.
 *
 * <p>The commit point is the run's commit record ({@code _state/_commits/RUN.json}), written
 * whole before anything moves. Applying it (moving staged files into the tables, dropping a
 * snapshot's old files, writing each table's state) is idempotent, so a commit cut short is
 * finished by {@link #recover()} at the start of the next run; a run that died before writing its
 * record committed nothing, and its staged files are deleted. Either way the tables and cursors
 * stay consistent: cursors never move past rows that are not in the tables, and rows never land
 * twice.
 */
public final class Committer implements Serializable {
  private static final Logger LOG = LoggerFactory.getLogger(Committer.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final OutputLayout layout;

  public Committer(OutputLayout layout) {
    this.layout = layout;
  }

  /** Commits a run whose outputs are all durable in staging. */
  public void commit(RunCommit run) {
    BeamFiles.writeAtomically(layout.commitRecord(run.runId()), toJson(run));
    apply(run);
  }

  /** Finishes commits that were cut short and deletes what dead runs staged. */
  public List<String> recover() {
    List<String> done = new ArrayList<>();
    for (ResourceId record : BeamFiles.list(layout.commitsDir() + "*.json")) {
      RunCommit run = fromJson(BeamFiles.read(record.toString()), RunCommit.class);
      LOG.info("Finishing the commit of run {}, which was cut short", run.runId());
      apply(run);
      done.add(run.runId());
    }
    List<ResourceId> orphans = BeamFiles.list(layout.stagingRoot() + "**");
    if (!orphans.isEmpty()) {
      LOG.info("Deleting {} files staged by runs that never committed", orphans.size());
      BeamFiles.delete(orphans);
    }
    return done;
  }

  /** The committed state of a table, if any run committed it. */
  public Optional<TableState> state(Destination destination) {
    String path = layout.stateFile(destination);
    return BeamFiles.exists(path)
        ? Optional.of(fromJson(BeamFiles.read(path), TableState.class))
        : Optional.empty();
  }

  private void apply(RunCommit run) {
    for (TableCommit table : run.tables()) {
      Destination d = table.destination();
      String prefix = run.runId() + "-";
      List<ResourceId> staged = BeamFiles.list(layout.stagingDir(run.runId(), d) + "*.parquet");
      List<ResourceId> targets = new ArrayList<>();
      for (ResourceId file : staged) {
        targets.add(BeamFiles.resource(layout.tableDir(d) + prefix + file.getFilename()));
      }
      BeamFiles.rename(staged, targets);
      if (table.replace()) {
        List<ResourceId> old = new ArrayList<>();
        for (ResourceId file : BeamFiles.list(layout.tableDir(d) + "*.parquet")) {
          if (!file.getFilename().startsWith(prefix)) {
            old.add(file);
          }
        }
        BeamFiles.delete(old);
      }
      BeamFiles.writeAtomically(layout.stateFile(d), toJson(table.state()));
    }
    BeamFiles.delete(BeamFiles.list(layout.stagingRoot() + run.runId() + "/**"));
    for (TableCommit t : run.tables()) {
      String staged = layout.stagingDir(run.runId(), t.destination());
      BeamFiles.deleteEmptyDirectory(staged + ".temp-beam/"); // FileIO's own temporary folder
      BeamFiles.deleteEmptyDirectory(staged);
    }
    BeamFiles.deleteEmptyDirectory(layout.stagingRoot() + run.runId() + "/");
    BeamFiles.delete(List.of(BeamFiles.resource(layout.commitRecord(run.runId()))));
  }

  private static String toJson(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static <T> T fromJson(String text, Class<T> type) {
    try {
      return JSON.readValue(text, type);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
