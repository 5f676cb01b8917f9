package com.example.connector.merge;

import com.example.connector.catalog.FieldType;
import com.example.connector.catalog.IngestionType;
import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.SourceField;
import com.example.connector.catalog.TableDescriptor;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/** A users table cut down to what the merge tests need: a key, a value and a cursor. */
final class TestUsers {
  static final TableDescriptor TABLE = new TableDescriptor("users",
      List.of(SourceField.of("user_id", FieldType.STRING, false),
          SourceField.of("email", FieldType.STRING, true),
          SourceField.of("updated_at", FieldType.TIMESTAMP, true)),
      List.of("user_id"), "updated_at", "user_id", IngestionType.CDC);
  static final Schema FEED = RecordSchemas.schemaOf(TABLE);

  private TestUsers() {}

  /** A change feed row: an upsert of {@code email} at {@code at}, or a delete when email is null. */
  static GenericRecord change(String userId, String email, long at) {
    GenericRecord r = new GenericData.Record(FEED);
    r.put("user_id", userId);
    r.put("email", email);
    r.put("updated_at", at);
    r.put(RecordSchemas.RUN_ID, "r");
    r.put(RecordSchemas.INGESTED_AT, 0L);
    r.put(RecordSchemas.OPERATION, email == null ? "delete" : "upsert");
    r.put(RecordSchemas.IS_DELETED, email == null);
    return r;
  }
}
