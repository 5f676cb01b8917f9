package com.example.connector.sink;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;

/**
 * One table's part of a run's commit: move the staged files into the table, replacing the
 * table's files ({@code replace}, for snapshots) or adding to them, then store the new state.
 */
public record TableCommit(
    @JsonProperty("destination") Destination destination,
    @JsonProperty("replace") boolean replace,
    @JsonProperty("state") TableState state)
    implements Serializable {}
