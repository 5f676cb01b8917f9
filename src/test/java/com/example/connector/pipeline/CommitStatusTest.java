package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.example.connector.sink.OutputLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a failed run says about its commit: only what the output root shows. */
class CommitStatusTest {
  @TempDir Path dir;

  private IngestPlan plan(String root) {
    return new IngestPlan("20260101T000000Z-abcdef", Instant.EPOCH, new OutputLayout(root), List.of());
  }

  @Test
  void nothingWasCommittedWhenTheRunLeftNoCommitRecord() {
    assertEquals("nothing was committed", IngestMain.commitStatus(plan(dir.toString())));
  }

  @Test
  void aCommitRecordMeansTheRunIsCommitted() throws Exception {
    Path record = dir.resolve("_state/_commits/20260101T000000Z-abcdef.json");
    Files.createDirectories(record.getParent());
    Files.writeString(record, "{}");
    assertEquals("run 20260101T000000Z-abcdef reached its commit point: its tables and cursors are"
        + " committed (if applying the commit was cut short, the next run finishes it)",
        IngestMain.commitStatus(plan(dir.toString())));
  }

  @Test
  void anUncheckableOutputSaysSoRatherThanGuess() {
    assertEquals("whether run 20260101T000000Z-abcdef committed could not be checked"
        + " (IllegalArgumentException: No filesystem found for scheme nosuch); the next run's"
        + " summary shows each table's cursor", IngestMain.commitStatus(plan("nosuch://bucket/out")));
  }
}
