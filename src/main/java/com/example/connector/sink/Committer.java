package com.example.connector.sink;

import com.example.connector.sink.StagedFile.Part;
import com.example.connector.sink.TableCommit.Move;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits a run's staged files and cursors together, and recovers from a run that died.
 *
 * <p>The commit point is the run's commit record ({@code _state/_commits/RUN.json}): every move
 * of a staged file into a table or change feed, and every table's new state (cursors and
 * manifest), written whole before anything moves. Applying it is idempotent (moves of files
 * already moved are skipped; a table's files not in its manifest are deleted), so a commit cut
 * short is finished by {@link #recover()} at the start of the next run; a run that died before
 * writing its record committed nothing, and its staged files are deleted. Either way the tables
 * and cursors stay consistent: cursors never move past rows that are not in the tables, and rows
 * never land twice.
 *
 * <p>One run at a time per output root: a run's recovery deletes whatever is staged.
 *
 * <p>What it needs of the storage: renames need not be atomic (an object store copies, then
 * deletes; a rename cut short in between is redone, as the source is still there), but a listing
 * must show every object written before it (read-after-write, as local disks, {@code gs://} and
 * {@code s3://} list today): recovery finds a commit cut short by listing {@code _state/_commits/},
 * and a listing that missed it would delete the files the commit still has to move. A listing or
 * lookup that fails fails the run (see {@code BeamFiles#list}); it is never read as "no files".
 */
public final class Committer implements Serializable {
  private static final Logger LOG = LoggerFactory.getLogger(Committer.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final OutputLayout layout;

  public Committer(OutputLayout layout) {
    this.layout = layout;
  }

  /**
   * Commits a planned run whose outputs, {@code staged}, are all durable. Safe to call again for
   * the same run (a retried bundle): a commit already applied is not applied twice.
   */
  public void commit(RunCommit planned, List<StagedFile> staged) {
    String record = layout.commitRecord(planned.runId());
    if (BeamFiles.exists(record)) {
      apply(fromJson(BeamFiles.read(record), RunCommit.class));
      return;
    }
    if (alreadyCommitted(planned)) {
      return;
    }
    RunCommit run = resolve(planned, staged);
    List<String> missing = BeamFiles.missing(run.tables().stream()
        .flatMap(t -> t.moves().stream()).map(Move::from).toList());
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          "run " + planned.runId() + ": staged files vanished before the commit (" + missing.get(0)
              + (missing.size() > 1 ? " and " + (missing.size() - 1) + " more" : "")
              + "); was another run started on the same output root? Nothing was committed.");
    }
    BeamFiles.writeAtomically(record, toJson(run));
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
    // A record still named .tmp never reached the commit point: its run committed nothing.
    BeamFiles.delete(BeamFiles.list(layout.commitsDir() + "*.tmp"));
    List<ResourceId> orphans = BeamFiles.list(layout.stagingRoot() + "**");
    if (!orphans.isEmpty()) {
      LOG.info("Deleting {} files staged by runs that never committed", orphans.size());
      BeamFiles.delete(orphans);
      String root = BeamFiles.resource(layout.stagingRoot()).toString();
      TreeSet<String> dirs = new TreeSet<>(Comparator.reverseOrder());
      for (ResourceId f : orphans) {
        // Every directory between the file and the staging root, deepest first.
        for (String d = f.getCurrentDirectory().toString(); d.startsWith(root) && !d.equals(root);
            d = d.substring(0, d.lastIndexOf('/', d.length() - 2) + 1)) {
          dirs.add(d);
        }
      }
      dirs.forEach(BeamFiles::deleteEmptyDirectory);
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

  private boolean alreadyCommitted(RunCommit run) {
    return run.tables().stream()
        .anyMatch(t -> state(t.destination()).map(s -> s.lastRunId().equals(run.runId())).orElse(false));
  }

  /**
   * The planned commit with its moves: each staged file lands in its table or change feed under
   * a name starting with the run id; the manifest lists the table's files after the moves (the
   * committed ones too, for an append table, whose versions only grow).
   */
  private RunCommit resolve(RunCommit planned, List<StagedFile> staged) {
    List<TableCommit> tables = new ArrayList<>();
    for (TableCommit table : planned.tables()) {
      Destination d = table.destination();
      List<Move> moves = new ArrayList<>();
      List<String> files = new ArrayList<>(
          table.state().merge().appendOnly() ? table.state().tableFiles() : List.of());
      for (StagedFile file : staged) {
        if (!file.destination().equals(d.key())) {
          continue;
        }
        String name = planned.runId() + "-" + BeamFiles.resource(file.path()).getFilename();
        boolean toTable = file.part() == Part.TABLE;
        moves.add(new Move(file.path(), (toTable ? layout.tableDir(d) : layout.changesDir(d)) + name));
        if (toTable) {
          files.add(name);
        }
      }
      files.sort(null);
      tables.add(new TableCommit(d, table.state().withTableFiles(files), moves));
    }
    return new RunCommit(planned.runId(), tables);
  }

  private void apply(RunCommit run) {
    for (TableCommit table : run.tables()) {
      Destination d = table.destination();
      BeamFiles.rename(
          table.moves().stream().map(m -> BeamFiles.resource(m.from())).toList(),
          table.moves().stream().map(m -> BeamFiles.resource(m.to())).toList());
      BeamFiles.writeAtomically(layout.stateFile(d), toJson(table.state()));
      Set<String> manifest = new HashSet<>(table.state().tableFiles());
      BeamFiles.delete(BeamFiles.list(layout.tableDir(d) + "*.parquet").stream()
          .filter(f -> !manifest.contains(f.getFilename()))
          .toList());
    }
    BeamFiles.delete(BeamFiles.list(layout.stagingRoot() + run.runId() + "/**"));
    for (TableCommit t : run.tables()) {
      String staged = layout.stagingDir(run.runId(), t.destination());
      for (Part part : Part.values()) {
        BeamFiles.deleteEmptyDirectory(layout.stagingDir(run.runId(), t.destination(), part));
      }
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
