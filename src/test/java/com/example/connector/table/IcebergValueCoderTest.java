package com.example.connector.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.SerializableUtils;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.junit.jupiter.api.Test;

class IcebergValueCoderTest {
  private static final DataFile FILE = DataFiles.builder(PartitionSpec.unpartitioned())
      .withPath("/warehouse/main/example/users/data/run-1.parquet").withFormat(FileFormat.PARQUET)
      .withFileSizeInBytes(4096).withRecordCount(37).build();
  private static final WrittenFile WRITTEN = new WrittenFile("main.example.users", FILE, List.of());

  @Test
  void aDecodedFileIsStructurallyTheFileItEncoded() throws Exception {
    IcebergValueCoder<WrittenFile> coder = IcebergValueCoder.of(WrittenFile.class);
    assertEquals(coder, SerializableUtils.ensureSerializable(coder)); // shipped to workers with the graph
    WrittenFile decoded = CoderUtils.clone(coder, WRITTEN);
    assertEquals(FILE.path().toString(), decoded.file().path().toString());
    assertEquals(37, decoded.file().recordCount());
    assertEquals(coder.structuralValue(WRITTEN), coder.structuralValue(decoded));
    // What the DirectRunner's mutation check could not do with Beam's coder: Iceberg's files have no equals.
    Coder<WrittenFile> beams = SerializableCoder.of(WrittenFile.class);
    assertNotEquals(beams.structuralValue(WRITTEN), beams.structuralValue(CoderUtils.clone(beams, WRITTEN)));
  }

  @Test
  void codersOfOneTypeAreEqual() {
    assertEquals(IcebergValueCoder.of(WrittenFile.class), IcebergValueCoder.of(WrittenFile.class));
    assertEquals(IcebergValueCoder.of(WrittenFile.class).hashCode(), IcebergValueCoder.of(WrittenFile.class).hashCode());
    assertNotEquals(IcebergValueCoder.of(WrittenFile.class), IcebergValueCoder.of(RowPosition.class));
  }
}
