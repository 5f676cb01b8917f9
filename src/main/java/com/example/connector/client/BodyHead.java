package com.example.connector.client;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A response body that remembers its first bytes as they are read, so that a body which turns
 * out not to be the API's JSON can be shown in the error without buffering the whole of it.
 */
final class BodyHead extends FilterInputStream {
  static final int SIZE = 200;

  private final byte[] head = new byte[SIZE];
  private int length;
  private boolean more; // bytes beyond the head were read

  BodyHead(InputStream in) {
    super(in);
  }

  @Override
  public int read() throws IOException {
    int b = super.read();
    if (b >= 0) {
      remember(new byte[] {(byte) b}, 0, 1);
    }
    return b;
  }

  @Override
  public int read(byte[] buffer, int offset, int count) throws IOException {
    int n = super.read(buffer, offset, count);
    if (n > 0) {
      remember(buffer, offset, n);
    }
    return n;
  }

  private void remember(byte[] buffer, int offset, int count) {
    int kept = Math.min(count, SIZE - length);
    System.arraycopy(buffer, offset, head, length, kept);
    length += kept;
    more |= kept < count;
  }

  /** The first bytes read, as quoted text with line breaks escaped, {@code ...} if there was more. */
  String head() {
    String text = new String(Arrays.copyOf(head, length), StandardCharsets.UTF_8)
        .replace("\r", "\\r")
        .replace("\n", "\\n");
    return "'" + text + "'" + (more ? "..." : "");
  }
}
