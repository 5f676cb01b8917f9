package com.example.connector.merge;

import com.example.connector.catalog.IngestionType;
import com.example.connector.catalog.RecordSchemas;
import com.example.connector.catalog.ScdType;
import com.example.connector.catalog.TableDescriptor;
import com.example.connector.catalog.TableOptions;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How a destination table is kept from the rows a run reads (its change feed).
 *
 * <ul>
 *   <li>{@code scdType} null: an append table; the table is its change feed.
 *   <li>{@link ScdType#SCD_TYPE_1}: one row per key, the latest by sequence; deletes remove it.
 *   <li>{@link ScdType#SCD_TYPE_2}: every version per key, with {@value #START_AT} and
 *       {@value #END_AT}; a delete closes the current version.
 * </ul>
 *
 * @param keys the primary key columns ({@code primary_keys}, or the source's)
 * @param sequenceBy the column that orders versions ({@code sequence_by}, or the cursor); null
 *     for a snapshot table, whose versions are ordered by the snapshot that read them
 * @param snapshot whether each run reads a complete image, so a key missing from it was deleted
 */
public record MergeRule(
    @JsonProperty("scd_type") @Nullable ScdType scdType,
    @JsonProperty("primary_keys") List<String> keys,
    @JsonProperty("sequence_by") @Nullable String sequenceBy,
    @JsonProperty("snapshot") boolean snapshot)
    implements Serializable {

  public static final String START_AT = "__START_AT";
  public static final String END_AT = "__END_AT";

  public MergeRule {
    keys = List.copyOf(keys);
  }

  public static MergeRule of(TableDescriptor table, TableOptions options) {
    boolean snapshot = table.ingestionType() == IngestionType.SNAPSHOT;
    return new MergeRule(
        options.scdType(),
        options.primaryKeys() != null ? options.primaryKeys() : table.primaryKeys(),
        options.sequenceBy() != null ? options.sequenceBy() : table.cursorField(),
        snapshot);
  }

  @JsonIgnore
  public boolean appendOnly() {
    return scdType == null;
  }

  /**
   * The table's Iceberg identifier fields: an SCD type 1 table's primary keys. None for a type 2
   * table, which holds several versions of a key, nor for an append table.
   */
  @JsonIgnore
  public List<String> identifierColumns() {
    return scdType == ScdType.SCD_TYPE_1 ? keys : List.of();
  }

  /**
   * The schema of the table a reader queries: the change feed's for an append table; else the
   * source's columns, plus {@value #START_AT} and {@value #END_AT} (typed as the sequence) for
   * SCD type 2.
   */
  public Schema tableSchema(Schema feedSchema) {
    if (appendOnly()) {
      return feedSchema;
    }
    if (scdType == ScdType.SCD_TYPE_1) {
      return sourceColumns(feedSchema);
    }
    Schema sequence = sequenceSchema(feedSchema);
    return schema(feedSchema, List.of(
        new Schema.Field(START_AT, sequence, null, (Object) null),
        new Schema.Field(END_AT, sequence, null, (Object) null)));
  }

  /** The source's columns of a change feed row: what a version of a row holds. */
  static Schema sourceColumns(Schema feedSchema) {
    return schema(feedSchema, List.of());
  }

  private static Schema schema(Schema feedSchema, List<Schema.Field> extra) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : feedSchema.getFields()) {
      if (!RecordSchemas.isMetadata(f.name())) {
        fields.add(new Schema.Field(f.name(), f.schema(), f.doc(), f.defaultVal()));
      }
    }
    fields.addAll(extra);
    return Schema.createRecord(
        feedSchema.getName(), null, feedSchema.getNamespace() + ".table", false, fields);
  }

  /** The (nullable) type of sequence values: the sequence column's, or a snapshot's time. */
  Schema sequenceSchema(Schema feedSchema) {
    return sequenceBy != null
        ? feedSchema.getField(sequenceBy).schema()
        : Schema.createUnion(
            Schema.create(Schema.Type.NULL),
            LogicalTypes.timestampMicros().addToSchema(Schema.create(Schema.Type.LONG)));
  }
}
