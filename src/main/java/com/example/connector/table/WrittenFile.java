package com.example.connector.table;

import java.io.Serializable;
import java.util.List;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;

/**
 * A data or delete file a worker wrote for a table, not yet part of it: the committer adds it in
 * the run's one commit of that table. Iceberg's file metadata is serializable (its Flink and
 * Spark writers ship it to their committers the same way).
 *
 * @param table the destination it was written for ({@link Destination#key()})
 * @param referencedDataFiles for a position delete file, the data files it deletes rows of
 */
public record WrittenFile(String table, ContentFile<?> file, List<String> referencedDataFiles)
    implements Serializable {

  public WrittenFile {
    referencedDataFiles = List.copyOf(referencedDataFiles);
  }

  public boolean isData() {
    return file instanceof DataFile;
  }

  public DataFile dataFile() {
    return (DataFile) file;
  }

  public DeleteFile deleteFile() {
    return (DeleteFile) file;
  }
}
