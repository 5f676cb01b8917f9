package com.example.connector.sink;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;
import java.util.List;

/**
 * One table's part of a run's commit: the staged files to move into the table and its change
 * feed, and the state to store (whose manifest lists the table's files once they are moved).
 * Planned before the run reads, without moves; {@link Committer} fills them in from what the run
 * staged.
 */
public record TableCommit(
    @JsonProperty("destination") Destination destination,
    @JsonProperty("state") TableState state,
    @JsonProperty("moves") List<Move> moves)
    implements Serializable {

  public TableCommit {
    moves = List.copyOf(moves);
  }

  public static TableCommit planned(Destination destination, TableState state) {
    return new TableCommit(destination, state, List.of());
  }

  /** A staged file and where it lands. */
  public record Move(@JsonProperty("from") String from, @JsonProperty("to") String to)
      implements Serializable {}
}
