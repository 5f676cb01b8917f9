package com.example.connector.table;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.SerializableCoder;

/**
 * Values holding Iceberg's file metadata or scan tasks ({@link WrittenFile}, {@code
 * FileScanTask}), Java-serialized as Iceberg's Flink and Spark writers ship them, and compared by
 * their encoding. Those classes have no equals, so {@link SerializableCoder}, which compares values
 * by equals, made the DirectRunner's mutation checks warn for every element instead of checking
 * it.
 */
public final class IcebergValueCoder<T extends Serializable> extends CustomCoder<T> {
  private final SerializableCoder<T> serialized;

  private IcebergValueCoder(Class<T> type) {
    this.serialized = SerializableCoder.of(type);
  }

  public static <T extends Serializable> IcebergValueCoder<T> of(Class<T> type) {
    return new IcebergValueCoder<>(type);
  }

  @Override
  public void encode(T value, OutputStream out) throws IOException {
    serialized.encode(value, out);
  }

  @Override
  public T decode(InputStream in) throws IOException {
    return serialized.decode(in);
  }

  // Equal for equal types: Flink unions only collections of equal coders.
  @Override
  public boolean equals(Object other) {
    return other instanceof IcebergValueCoder<?> coder && serialized.equals(coder.serialized);
  }

  @Override
  public int hashCode() {
    return serialized.hashCode();
  }
}
