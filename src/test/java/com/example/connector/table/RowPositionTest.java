package com.example.connector.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.beam.sdk.testing.CoderProperties;
import org.junit.jupiter.api.Test;

/** A row position's coder: the path's UTF-8 bytes after their length, then the position, both variable-length. */
class RowPositionTest {
  @Test
  void aPositionIsItsPathsLengthAndBytesThenItsPosition() throws Exception {
    RowPosition position = new RowPosition("d/é.parquet", 300);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RowPosition.Coder.of().encode(position, out);
    RowPosition.Coder.of().encode(new RowPosition("", 0), out);

    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.write(12); // "d/é.parquet": 11 characters, 12 bytes
    expected.write("d/é.parquet".getBytes(StandardCharsets.UTF_8));
    expected.write(new byte[] {(byte) 0xac, 0x02}); // 300 = 0b10_0101100: 7 bits, then 2
    expected.write(new byte[] {0, 0});
    assertArrayEquals(expected.toByteArray(), out.toByteArray());

    ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
    assertEquals(position, RowPosition.Coder.of().decode(in));
    assertEquals(new RowPosition("", 0), RowPosition.Coder.of().decode(in));
    assertEquals(0, in.available());
    CoderProperties.coderDecodeEncodeEqual(RowPosition.Coder.of(), new RowPosition("data/x.parquet", Long.MAX_VALUE));
    CoderProperties.coderDeterministic(RowPosition.Coder.of(), position, new RowPosition("d/é.parquet", 300));
  }
}
