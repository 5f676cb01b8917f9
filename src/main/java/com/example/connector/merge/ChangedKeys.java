package com.example.connector.merge;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.transforms.Combine;
import org.checkerframework.checker.nullness.qual.Nullable;

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

  private ChangedKeys(long[] words) {
    this.words = words;
  }

  /**
   * The share of unchanged keys a filter of {@code bits} bits holding {@code keys} keys claims:
   * {@code (1 - e^(-k n / m))^k}. About 2 % at a million keys in the default size.
   */
  static double falsePositiveRate(long keys, int bits) {
    return Math.pow(1 - Math.exp(-(double) HASHES * keys / bits), HASHES);
  }

  /** Whether a key of these values (a row's primary key, as {@link MergeChanges#keyOf(List)} takes them) may have changed. */
  boolean mightContain(List<?> key) {
    long hash = hash(key);
    for (int i = 0; i < HASHES; i++) {
      int bit = bit(words, hash, i);
      if ((words[bit >>> 6] & (1L << bit)) == 0) {
        return false;
      }
    }
    return true;
  }

  private static void set(long[] words, long hash) {
    for (int i = 0; i < HASHES; i++) {
      int bit = bit(words, hash, i);
      words[bit >>> 6] |= 1L << bit;
    }
  }

  /** The i-th of a key's bit positions, from two 32-bit halves of its hash (Kirsch-Mitzenmacher). */
  private static int bit(long[] words, long hash, int i) {
    int combined = (int) hash + i * (int) (hash >>> 32);
    return combined & (words.length * 64 - 1);
  }

  /**
   * FNV-1a over the characters of the key's string ({@link MergeChanges#writeKey}), taken as they
   * come rather than built (a merge hashes every committed row it reads, and building the string
   * was a third of reading a file), then a 64-bit finaliser (SplitMix64) to spread both halves.
   * Over characters, not UTF-8 bytes, for the same reason.
   */
  static long hash(List<?> key) {
    long h = MergeChanges.writeKey(key, new Fnv()).hash;
    h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
    h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }

  /** FNV-1a of the characters appended. */
  private static final class Fnv implements Appendable {
    private long hash = 0xcbf29ce484222325L;

    @Override
    public Fnv append(char c) {
      hash = (hash ^ c) * 0x100000001b3L;
      return this;
    }

    @Override
    public Fnv append(CharSequence s) {
      return append(s, 0, s.length());
    }

    @Override
    public Fnv append(CharSequence s, int start, int end) {
      for (int i = start; i < end; i++) {
        append(s.charAt(i));
      }
      return this;
    }
  }

  /**
   * A filter being built: the keys' hashes while they take less room than the filter's bits, then
   * the bits. Runners combine a partial per bundle, and a bundle of a hundred changes must not
   * cost a megabyte; none costs more than the filter.
   */
  static final class Partial {
    private final int bits;
    private long[] hashes = new long[16];
    private int size;
    private long @Nullable [] words;

    Partial(int bits) {
      if (bits < 64 || Integer.bitCount(bits) != 1) {
        throw new IllegalArgumentException("a key filter has a power of two bits, at least 64: " + bits);
      }
      this.bits = bits;
    }

    void add(long hash) {
      if (words != null) {
        set(words, hash);
        return;
      }
      if (size == hashes.length) {
        hashes = Arrays.copyOf(hashes, size * 2);
      }
      hashes[size++] = hash;
      if (size * 64L >= bits) {
        densify();
      }
    }

    void addAll(Partial other) {
      if (other.words == null) {
        for (int i = 0; i < other.size; i++) {
          add(other.hashes[i]);
        }
        return;
      }
      densify();
      for (int i = 0; i < words.length; i++) {
        words[i] |= other.words[i];
      }
    }

    ChangedKeys filter() {
      densify();
      return new ChangedKeys(words.clone());
    }

    /** From hashes to bits, once the hashes would take as much room. */
    private void densify() {
      if (words == null) {
        words = new long[bits / 64];
        for (int i = 0; i < size; i++) {
          set(words, hashes[i]);
        }
        hashes = null;
      }
    }
  }

  /** Encodes a partial as its hashes or its bits, whichever it holds. */
  static final class PartialCoder extends AtomicCoder<Partial> {
    @Override
    public void encode(Partial p, OutputStream outStream) throws IOException {
      DataOutputStream out = new DataOutputStream(outStream);
      out.writeInt(p.bits);
      out.writeBoolean(p.words != null);
      long[] values = p.words != null ? p.words : p.hashes;
      int count = p.words != null ? p.words.length : p.size;
      out.writeInt(count);
      for (int i = 0; i < count; i++) {
        out.writeLong(values[i]);
      }
      out.flush();
    }

    @Override
    public Partial decode(InputStream inStream) throws IOException {
      DataInputStream in = new DataInputStream(inStream);
      Partial p = new Partial(in.readInt());
      boolean dense = in.readBoolean();
      long[] values = new long[in.readInt()];
      for (int i = 0; i < values.length; i++) {
        values[i] = in.readLong();
      }
      if (dense) {
        p.words = values;
        p.hashes = null;
      } else {
        for (long hash : values) {
          p.add(hash);
        }
      }
      return p;
    }
  }

  /** Collects the keys of change feed rows into one filter of {@code bits} bits. */
  static final class Collect extends Combine.CombineFn<GenericRecord, Partial, ChangedKeys> {
    private final List<String> keys;
    private final int bits;

    Collect(List<String> keys, int bits) {
      this.keys = List.copyOf(keys);
      this.bits = bits;
    }

    @Override
    public Partial createAccumulator() {
      return new Partial(bits);
    }

    @Override
    public Partial addInput(Partial partial, GenericRecord row) {
      partial.add(hash(MergeChanges.keyValues(row, keys)));
      return partial;
    }

    @Override
    public Partial mergeAccumulators(Iterable<Partial> partials) {
      Partial merged = createAccumulator();
      partials.forEach(merged::addAll);
      return merged;
    }

    @Override
    public ChangedKeys extractOutput(Partial partial) {
      return partial.filter();
    }

    @Override
    public Coder<Partial> getAccumulatorCoder(CoderRegistry registry, Coder<GenericRecord> input) {
      return new PartialCoder();
    }
  }
}
