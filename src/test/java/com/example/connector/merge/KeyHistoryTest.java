package com.example.connector.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.example.connector.catalog.ScdType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/** The SCD semantics of one key, without Beam: the order is the sequence's, never arrival's. */
class KeyHistoryTest {
  private static final Schema FEED = TestUsers.FEED;

  private static final MergeRule SCD1 = new MergeRule(ScdType.SCD_TYPE_1, List.of("user_id"), "updated_at", false);
  private static final MergeRule SCD2 = new MergeRule(ScdType.SCD_TYPE_2, List.of("user_id"), "updated_at", false);
  private static final MergeRule SNAPSHOT2 = new MergeRule(ScdType.SCD_TYPE_2, List.of("user_id"), null, true);

  /** User u1's change: an upsert of {@code email} at {@code at}, or a delete when email is null. */
  private static GenericRecord change(String email, long at) {
    return TestUsers.change("u1", email, at);
  }

  private static List<GenericRecord> changes(GenericRecord... rows) {
    return Arrays.asList(rows);
  }

  /** Rows rendered as "email@updated_at" (SCD1) or "email@updated_at[start,end)" (SCD2). */
  private static List<String> show(List<GenericRecord> rows) {
    List<String> out = new ArrayList<>();
    for (GenericRecord r : rows) {
      String s = r.get("email") + "@" + r.get("updated_at");
      if (r.getSchema().getField(MergeRule.START_AT) != null) {
        s += "[" + r.get(MergeRule.START_AT) + "," + r.get(MergeRule.END_AT) + ")";
      }
      out.add(s);
    }
    return out;
  }

  private static List<String> merge(MergeRule rule, Long snapshotAt, List<GenericRecord> committed, List<GenericRecord> changes) {
    return show(new KeyHistory(rule, FEED, snapshotAt, "main.example.users").merge(committed, changes));
  }

  /** User u1's row in an SCD type 1 table, written by hand. */
  private static GenericRecord row(String email, long at) {
    GenericRecord r = new GenericData.Record(SCD1.tableSchema(FEED));
    r.put("user_id", "u1");
    r.put("email", email);
    r.put("updated_at", at);
    return r;
  }

  /** User u1's version {@code [start, end)} in an SCD type 2 table of {@code rule}, written by hand. */
  private static GenericRecord version(MergeRule rule, String email, long at, long start, Long end) {
    GenericRecord r = new GenericData.Record(rule.tableSchema(FEED));
    r.put("user_id", "u1");
    r.put("email", email);
    r.put("updated_at", at);
    r.put(MergeRule.START_AT, start);
    r.put(MergeRule.END_AT, end);
    return r;
  }

  private static GenericRecord version(String email, long at, long start, Long end) {
    return version(SCD2, email, at, start, end);
  }

  @Test
  void scd1KeepsTheLatestBySequence() {
    assertEquals(List.of("b@20"), merge(SCD1, null, List.of(), changes(change("b", 20), change("a", 10))));
    List<GenericRecord> committed = List.of(row("c", 30));
    assertEquals(List.of("c@30"), merge(SCD1, null, committed, changes(change("late", 20))), "a late older version never overwrites");
    assertEquals(List.of("d@40"), merge(SCD1, null, committed, changes(change("d", 40))));
  }

  @Test
  void scd1DeletesRemoveTheKeyAndReinsertsKeepIt() {
    List<GenericRecord> committed = List.of(row("a", 10));
    assertEquals(List.of(), merge(SCD1, null, committed, changes(change(null, 20))));
    assertEquals(List.of("b@30"), merge(SCD1, null, committed, changes(change("b", 30), change(null, 20))), "delete then re-insert, read in any order");
    assertEquals(List.of(), merge(SCD1, null, committed, changes(change(null, 30), change("b", 20))), "re-insert older than the delete");
  }

  /** README, SCD semantics: equal sequences fall back on arrival, the later run wins, within a run an upsert before a delete. */
  @Test
  void equalSequencesPutTheLaterRunLastAndAnUpsertBeforeADelete() {
    List<GenericRecord> committed = List.of(row("old", 5));
    assertEquals(List.of(), merge(SCD1, null, committed, changes(change("new", 10), change(null, 10))),
        "within a run, the upsert comes first and the delete at the same sequence removes the key");
    assertEquals(List.of(), merge(SCD1, null, committed, changes(change(null, 10), change("new", 10))),
        "whatever the order the run read them in");
    assertEquals(List.of(), merge(SCD1, null, List.of(row("c", 10)), changes(change(null, 10))),
        "a delete at the committed row's sequence: this run's comes later");
    assertEquals(List.of("x@10"), merge(SCD1, null, List.of(row("c", 10)), changes(change("x", 10))),
        "an upsert at the committed row's sequence: this run's wins");
  }

  @Test
  void scd1OrdersByAnOverriddenSequence() {
    MergeRule byEmail = new MergeRule(ScdType.SCD_TYPE_1, List.of("user_id"), "email", false);
    List<GenericRecord> committed = List.of(row("m", 10));
    assertEquals(List.of("m@10"), merge(byEmail, null, committed, changes(change("k", 20))), "k sorts before m: older");
    assertEquals(List.of("z@5"), merge(byEmail, null, committed, changes(change("z", 5))));
  }

  @Test
  void scd2KeepsEveryVersion() {
    assertEquals(List.of("a@10[10,null)"), merge(SCD2, null, List.of(), changes(change("a", 10))));
    assertEquals(List.of("a@10[10,20)", "b@20[20,30)", "c@30[30,null)"),
        merge(SCD2, null, List.of(version("a", 10, 10, null)), changes(change("b", 20), change("c", 30))));
    List<GenericRecord> three = List.of(version("c", 30, 30, null), version("a", 10, 10, 20L), version("b", 20, 20, 30L));
    assertEquals(List.of("a@10[10,20)", "b@20[20,30)", "c@30[30,null)"), merge(SCD2, null, three, changes(change("c", 30))),
        "a re-read version is not a new one (committed versions in any order)");
  }

  @Test
  void scd2DeletesCloseAndReinsertsOpen() {
    assertEquals(List.of("a@10[10,20)"), merge(SCD2, null, List.of(version("a", 10, 10, null)), changes(change(null, 20))));
    assertEquals(List.of("a@10[10,20)", "b@30[30,null)"),
        merge(SCD2, null, List.of(version("a", 10, 10, 20L)), changes(change("b", 30))),
        "the committed history still knows the key was deleted at 20");
  }

  @Test
  void scd2KeepsTheGapsOfCommittedDeletes() {
    List<GenericRecord> gap = List.of(version("b", 20, 20, null), version("a", 10, 10, 15L));
    assertEquals(List.of("a@10[10,15)", "b@20[20,30)", "c@30[30,null)"), merge(SCD2, null, gap, changes(change("c", 30))),
        "a was deleted at 15: no version starts there");
    List<GenericRecord> instant = List.of(version("a", 10, 10, 10L));
    assertEquals(List.of("a@10[10,10)", "b@20[20,null)"), merge(SCD2, null, instant, changes(change("b", 20))),
        "a version deleted where it starts is not its own successor");
  }

  @Test
  void scd2PutsALateVersionInItsPlace() {
    assertEquals(List.of("a@10[10,20)", "b@20[20,null)"),
        merge(SCD2, null, List.of(version("b", 20, 20, null)), changes(change("a", 10))));
  }

  @Test
  void snapshotsOpenChangedRowsAndCloseMissingOnes() {
    assertEquals(List.of("a@1[100,null)"), merge(SNAPSHOT2, 100L, List.of(), changes(change("a", 1))));
    List<GenericRecord> first = List.of(version(SNAPSHOT2, "a", 1, 100, null));
    assertEquals(List.of("a@1[100,null)"), merge(SNAPSHOT2, 200L, first, changes(change("a", 1))), "unchanged: no new version");
    assertEquals(List.of("a@1[100,200)", "b@2[200,null)"), merge(SNAPSHOT2, 200L, first, changes(change("b", 2))));
    assertEquals(List.of("a@1[100,200)"), merge(SNAPSHOT2, 200L, first, List.of()), "missing from the snapshot: closed");
    List<GenericRecord> closed = List.of(version(SNAPSHOT2, "a", 1, 100, 200L));
    assertEquals(List.of("a@1[100,200)"), merge(SNAPSHOT2, 300L, closed, List.of()), "a closed version stays closed");
  }
}
