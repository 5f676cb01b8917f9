package com.example.connector.merge;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.Combine;

/**
 * The primary keys a run changed, as a Bloom filter of a fixed size: what the merge sends to every
 * worker to tell committed rows it must merge from those it passes through. Its size does not
 * grow with the number of changed keys (a set of them did, on every worker); a key it wrongly
 * claims (a false positive) only sends an unchanged committed row through the merge, which keeps
 * it as it is. About 2 % of unchanged keys at a million changed keys, with the default size.
 */
final class ChangedKeys implements Serializable {
  /** 8 Mbit: 1 MB per table, whatever the run read. */
  static final int DEFAULT_BITS = 1 << 23;
  private static final int HASHES = 4;

  private final long[] words;

  private ChangedKeys(int bits) {
    if (bits < 64 || Integer.bitCount(bits) != 1) {
      throw new IllegalArgumentException("a key filter has a power of two bits, at least 64: " + bits);
    }
    this.words = new long[bits / 64];
  }

  boolean mightContain(String key) {
    long hash = hash(key);
    for (int i = 0; i < HASHES; i++) {
      int bit = bit(hash, i);
      if ((words[bit >>> 6] & (1L << bit)) == 0) {
        return false;
      }
    }
    return true;
  }

  private void add(String key) {
    long hash = hash(key);
    for (int i = 0; i < HASHES; i++) {
      int bit = bit(hash, i);
      words[bit >>> 6] |= 1L << bit;
    }
  }

  private void addAll(ChangedKeys other) {
    for (int i = 0; i < words.length; i++) {
      words[i] |= other.words[i];
    }
  }

  /** The i-th of the key's bit positions, from two 32-bit halves of one hash (Kirsch-Mitzenmacher). */
  private int bit(long hash, int i) {
    int combined = (int) hash + i * (int) (hash >>> 32);
    return combined & (words.length * 64 - 1);
  }

  /** FNV-1a over the key's UTF-8 bytes, then a 64-bit finaliser (SplitMix64) to spread both halves. */
  private static long hash(String key) {
    long h = 0xcbf29ce484222325L;
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
    h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }

  /** Collects the keys of change feed rows into one filter of {@code bits} bits. */
  static final class Collect extends Combine.CombineFn<GenericRecord, ChangedKeys, ChangedKeys> {
    private final List<String> keys;
    private final int bits;

    Collect(List<String> keys, int bits) {
      this.keys = List.copyOf(keys);
      this.bits = bits;
    }

    @Override
    public ChangedKeys createAccumulator() {
      return new ChangedKeys(bits);
    }

    @Override
    public ChangedKeys addInput(ChangedKeys filter, GenericRecord row) {
      filter.add(MergeTable.keyOf(row, keys));
      return filter;
    }

    @Override
    public ChangedKeys mergeAccumulators(Iterable<ChangedKeys> filters) {
      ChangedKeys merged = createAccumulator();
      filters.forEach(merged::addAll);
      return merged;
    }

    @Override
    public ChangedKeys extractOutput(ChangedKeys filter) {
      return filter;
    }

    @Override
    public Coder<ChangedKeys> getAccumulatorCoder(CoderRegistry registry, Coder<GenericRecord> input) {
      return SerializableCoder.of(ChangedKeys.class);
    }

    @Override
    public Coder<ChangedKeys> getDefaultOutputCoder(CoderRegistry registry, Coder<GenericRecord> input) {
      return SerializableCoder.of(ChangedKeys.class);
    }
  }
}
