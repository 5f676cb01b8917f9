package com.example.connector.pipeline;

import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The project's shipped files, wherever the tests run from: Maven's {@code basedir} system
 * property, else two levels above the test classes ({@code target/test-classes}).
 */
public final class ProjectFiles {
  private ProjectFiles() {}

  public static Path baseDir() {
    String basedir = System.getProperty("basedir");
    if (basedir != null) {
      return Path.of(basedir);
    }
    try {
      return Path.of(ProjectFiles.class.getProtectionDomain().getCodeSource().getLocation().toURI())
          .getParent().getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code runner-configs/NAME} of the project. */
  public static Path runnerConfig(String name) {
    return baseDir().resolve("runner-configs").resolve(name);
  }

  /** {@code pipelines/NAME} of the project. */
  public static Path pipelines(String name) {
    return baseDir().resolve("pipelines").resolve(name);
  }
}
