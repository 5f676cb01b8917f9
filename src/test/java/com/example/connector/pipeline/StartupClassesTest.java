package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The class lists a run preloads: which runner's, and that they are still this class path's. */
class StartupClassesTest {

  @Test
  void theRunnerIsTheLastOneNamedAsBeamMatchesItDirectByDefault(@TempDir Path dir) throws Exception {
    assertEquals(Optional.of("direct"), StartupClasses.runner(new String[] {"--spec=x.json"}));
    assertEquals(Optional.of("flink"), StartupClasses.runner(new String[] {"--runner=FlinkRunner"}));
    assertEquals(Optional.of("flink"), StartupClasses.runner(new String[] {"--runner=flink"}));
    assertEquals(Optional.of("flink"), StartupClasses.runner(new String[] {"--runner=org.apache.beam.runners.flink.FlinkRunner"}));
    assertEquals(Optional.of("direct"), StartupClasses.runner(new String[] {"--runner=FlinkRunner", "--runner=DirectRunner"}));
    assertEquals(Optional.empty(), StartupClasses.runner(new String[] {"--runner=DataflowRunner"}));

    Path config = Files.writeString(dir.resolve("flink"), "# embedded\n--runner=FlinkRunner\n--parallelism=2\n");
    assertEquals(Optional.of("flink"), StartupClasses.runner(new String[] {"--runnerConfig=" + config}));
    assertEquals(Optional.of("direct"), StartupClasses.runner(new String[] {"--runnerConfig=" + config, "--runner=direct"}));
    // A missing runner config is the run's error to report; nothing is preloaded for it.
    assertEquals(Optional.empty(), StartupClasses.runner(new String[] {"--runnerConfig=" + dir.resolve("missing")}));
  }

  @Test
  void everyListedClassIsOnTheClassPathElseTheListsAreReRecorded() {
    for (String runner : StartupClasses.RUNNERS) {
      List<String> names = StartupClasses.names(runner);
      assertTrue(names.size() > 5_000, runner + ": " + names.size() + " classes listed");
      assertTrue(names.contains(IngestMain.class.getName()), runner);
      int loaded = StartupClasses.load(names);
      // A few may go with a dependency's patch release; more means the list is stale.
      assertTrue(loaded >= names.size() * 0.99, runner + ": " + loaded + " of " + names.size() + " classes load;"
          + " re-record the lists: mvn -q compile exec:exec@run"
          + " -Dexec.mainClass=com.example.bench.RecordStartupClasses");
    }
  }

  @Test
  void aNameNotOnTheClassPathIsSkipped() {
    assertEquals(1, StartupClasses.load(List.of("com.example.NoSuchClass", IngestMain.class.getName())));
  }
}
