package com.example.connector.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.example.connector.catalog.ScdType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.Schema;
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
    return show(new KeyHistory(rule, FEED, snapshotAt).merge(committed, changes));
  }

  private static List<GenericRecord> table(MergeRule rule, Long snapshotAt, List<GenericRecord> committed, List<GenericRecord> changes) {
    return new KeyHistory(rule, FEED, snapshotAt).merge(committed, changes);
  }

  @Test
  void scd1KeepsTheLatestBySequence() {
    assertEquals(List.of("b@20"), merge(SCD1, null, List.of(), changes(change("b", 20), change("a", 10))));
    List<GenericRecord> committed = table(SCD1, null, List.of(), changes(change("c", 30)));
    assertEquals(List.of("c@30"), merge(SCD1, null, committed, changes(change("late", 20))), "a late older version never overwrites");
    assertEquals(List.of("d@40"), merge(SCD1, null, committed, changes(change("d", 40))));
  }

  @Test
  void scd1DeletesRemoveTheKeyAndReinsertsKeepIt() {
    List<GenericRecord> committed = table(SCD1, null, List.of(), changes(change("a", 10)));
    assertEquals(List.of(), merge(SCD1, null, committed, changes(change(null, 20))));
    assertEquals(List.of("b@30"), merge(SCD1, null, committed, changes(change("b", 30), change(null, 20))), "delete then re-insert, read in any order");
    assertEquals(List.of(), merge(SCD1, null, committed, changes(change(null, 30), change("b", 20))), "re-insert older than the delete");
  }

  @Test
  void scd1OrdersByAnOverriddenSequence() {
    MergeRule byEmail = new MergeRule(ScdType.SCD_TYPE_1, List.of("user_id"), "email", false);
    List<GenericRecord> committed = table(byEmail, null, List.of(), changes(change("m", 10)));
    assertEquals(List.of("m@10"), merge(byEmail, null, committed, changes(change("k", 20))), "k sorts before m: older");
    assertEquals(List.of("z@5"), merge(byEmail, null, committed, changes(change("z", 5))));
  }

  @Test
  void scd2KeepsEveryVersion() {
    List<GenericRecord> v1 = table(SCD2, null, List.of(), changes(change("a", 10)));
    assertEquals(List.of("a@10[10,null)"), show(v1));
    List<GenericRecord> v2 = table(SCD2, null, v1, changes(change("b", 20), change("c", 30)));
    assertEquals(List.of("a@10[10,20)", "b@20[20,30)", "c@30[30,null)"), show(v2));
    assertEquals(show(v2), merge(SCD2, null, v2, changes(change("c", 30))), "a re-read version is not a new one");
  }

  @Test
  void scd2DeletesCloseAndReinsertsOpen() {
    List<GenericRecord> deleted = table(SCD2, null, table(SCD2, null, List.of(), changes(change("a", 10))), changes(change(null, 20)));
    assertEquals(List.of("a@10[10,20)"), show(deleted));
    assertEquals(List.of("a@10[10,20)", "b@30[30,null)"), merge(SCD2, null, deleted, changes(change("b", 30))),
        "the committed history still knows the key was deleted at 20");
  }

  @Test
  void scd2PutsALateVersionInItsPlace() {
    List<GenericRecord> committed = table(SCD2, null, List.of(), changes(change("b", 20)));
    assertEquals(List.of("a@10[10,20)", "b@20[20,null)"), merge(SCD2, null, committed, changes(change("a", 10))));
  }

  @Test
  void snapshotsOpenChangedRowsAndCloseMissingOnes() {
    List<GenericRecord> first = table(SNAPSHOT2, 100L, List.of(), changes(change("a", 1)));
    assertEquals(List.of("a@1[100,null)"), show(first));
    assertEquals(show(first), merge(SNAPSHOT2, 200L, first, changes(change("a", 1))), "unchanged: no new version");
    assertEquals(List.of("a@1[100,200)", "b@2[200,null)"), merge(SNAPSHOT2, 200L, first, changes(change("b", 2))));
    assertEquals(List.of("a@1[100,200)"), merge(SNAPSHOT2, 200L, first, List.of()), "missing from the snapshot: closed");
    List<GenericRecord> closed = table(SNAPSHOT2, 200L, first, List.of());
    assertEquals(show(closed), merge(SNAPSHOT2, 300L, closed, List.of()), "a closed version stays closed");
  }
}
