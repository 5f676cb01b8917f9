package com.example.connector.merge;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.types.Comparators;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Type;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The values a run's changes hold in the first primary key column: all of them up to {@value
 * #MAX_VALUES}, else only the least and the greatest. What decides which committed data files a
 * merge reads: a file whose column statistics (lower and upper bound of that column) hold none of
 * them holds no row the run changed, and is not opened.
 */
final class ChangedKeyValues implements Serializable {
  static final int MAX_VALUES = 10_000;

  /** Sorted by the column's Iceberg order once the combine is done; null once there were too many. */
  private @Nullable List<Object> values;
  private @Nullable Object least;
  private @Nullable Object greatest;

  private ChangedKeyValues(@Nullable List<Object> values, @Nullable Object least, @Nullable Object greatest) {
    this.values = values;
    this.least = least;
    this.greatest = greatest;
  }

  /**
   * Whether a data file may hold one of the values: it has no bounds for the column, or one of
   * the values lies within them (bounds may be truncated, but always below and above the file's
   * values, so the test never rules out a file that holds one).
   */
  boolean mayBeIn(DataFile file, int fieldId, Type type) {
    ByteBuffer lowerBytes = file.lowerBounds() == null ? null : file.lowerBounds().get(fieldId);
    ByteBuffer upperBytes = file.upperBounds() == null ? null : file.upperBounds().get(fieldId);
    if (lowerBytes == null || upperBytes == null) {
      return true;
    }
    if (least == null) {
      return false;
    }
    Comparator<Object> order = order(type);
    Object lower = icebergValue(Conversions.fromByteBuffer(type, lowerBytes));
    Object upper = icebergValue(Conversions.fromByteBuffer(type, upperBytes));
    if (order.compare(greatest, lower) < 0 || order.compare(least, upper) > 0) {
      return false;
    }
    if (values == null) {
      return true;
    }
    // The first value not below the lower bound, by bisection.
    int lo = 0;
    int hi = values.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (order.compare(values.get(mid), lower) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo < values.size() && order.compare(values.get(lo), upper) <= 0;
  }

  @SuppressWarnings("unchecked")
  private static Comparator<Object> order(Type type) {
    return (Comparator<Object>) (Comparator<?>) Comparators.forType(type.asPrimitiveType());
  }

  /** A change's key value as Iceberg compares it: strings as strings, numbers as they are. */
  private static @Nullable Object icebergValue(@Nullable Object v) {
    return v instanceof CharSequence s ? s.toString() : v;
  }

  /** Collects the first key column's values of every change, for a column of {@code type}. */
  static final class Collect extends Combine.CombineFn<GenericRecord, ChangedKeyValues, ChangedKeyValues> {
    private final String column;
    private final Type type;

    Collect(String column, Type type) {
      this.column = column;
      this.type = type;
    }

    @Override
    public ChangedKeyValues createAccumulator() {
      return new ChangedKeyValues(new ArrayList<>(), null, null);
    }

    @Override
    public ChangedKeyValues addInput(ChangedKeyValues acc, GenericRecord change) {
      Object v = icebergValue(change.get(column));
      if (v != null) {
        add(acc, v);
      }
      return acc;
    }

    @Override
    public ChangedKeyValues mergeAccumulators(Iterable<ChangedKeyValues> accumulators) {
      ChangedKeyValues merged = createAccumulator();
      for (ChangedKeyValues acc : accumulators) {
        if (acc.least == null) {
          continue;
        }
        if (acc.values == null || merged.values == null) {
          add(merged, acc.least);
          add(merged, acc.greatest);
          merged.values = null;
        } else {
          acc.values.forEach(v -> add(merged, v));
        }
      }
      return merged;
    }

    @Override
    public ChangedKeyValues extractOutput(ChangedKeyValues acc) {
      if (acc.values != null) {
        acc.values.sort(order(type));
      }
      return acc;
    }

    private void add(ChangedKeyValues acc, Object v) {
      Comparator<Object> order = order(type);
      acc.least = acc.least == null || order.compare(v, acc.least) < 0 ? v : acc.least;
      acc.greatest = acc.greatest == null || order.compare(v, acc.greatest) > 0 ? v : acc.greatest;
      if (acc.values != null) {
        acc.values.add(v);
        if (acc.values.size() > MAX_VALUES) {
          acc.values = null;
        }
      }
    }

    @Override
    public Coder<ChangedKeyValues> getAccumulatorCoder(CoderRegistry registry, Coder<GenericRecord> input) {
      return SerializableCoder.of(ChangedKeyValues.class);
    }
  }
}
