package com.example.connector.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.client.RetryPolicy;
import com.example.connector.client.SourceConfig;
import com.example.source.ExampleSource;
import com.google.api.services.dataflow.model.Job;
import com.google.api.services.dataflow.model.Step;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.runners.dataflow.DataflowPipelineTranslator;
import org.apache.beam.runners.dataflow.DataflowRunner;
import org.apache.beam.runners.dataflow.options.DataflowPipelineOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory;
import org.apache.beam.sdk.extensions.gcp.storage.NoopPathValidator;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Translates the example pipeline into a Dataflow job offline (no GCP project, credentials or
 * network beyond the local simulated source the planner asks for the catalog) and checks the
 * job's steps and that the connection password is not in the job's display data.
 */
class DataflowTranslationTest {
  private static final String PASSWORD = "dataflow-s3cret-pw";

  @TempDir Path dir;

  @Test
  void exampleSpecTranslatesToADataflowJobWithoutThePassword() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0.0).start()) {
      DataflowPipelineOptions df = dataflowOptions(false);
      IngestPlan plan = plan(source, df);

      Pipeline pipeline = Pipeline.create(df);
      IngestPipeline.build(pipeline, plan);
      Job job = DryRun.dataflowJob(pipeline, df);

      List<String> steps = DryRun.stepNames(job);
      for (PlannedTable table : plan.tables()) {
        String name = table.destination().key();
        String read = table.snapshot() != null ? name + "/Read pages" : name + "/Read ";
        assertTrue(steps.stream().anyMatch(s -> s.startsWith(read)), () -> "no read step for " + name);
        if (table.merge().appendOnly()) {
          assertTrue(steps.stream().anyMatch(s -> s.startsWith(name + "/Write/")), () -> "no write step for " + name);
        } else {
          assertTrue(steps.stream().anyMatch(s -> s.startsWith(name + "/Write change feed/")), () -> "no change feed for " + name);
          assertTrue(steps.stream().anyMatch(s -> s.startsWith(name + "/Merge/")), () -> "no merge step for " + name);
          assertTrue(steps.stream().anyMatch(s -> s.startsWith(name + "/Write inserts/")), () -> "no inserts for " + name);
          assertTrue(steps.stream().anyMatch(s -> s.startsWith(name + "/Write deletes/")), () -> "no deletes for " + name);
        }
      }
      assertTrue(steps.stream().anyMatch(s -> s.equals("Commit/Commit tables and cursors")), "no commit step");

      // Display data (of the job's steps and of the pipeline options) never holds the password.
      StringBuilder displayData = new StringBuilder();
      for (Step step : job.getSteps()) {
        Object dd = step.getProperties().get("display_data");
        displayData.append(dd).append('\n');
      }
      Map<String, Object> env = job.getEnvironment().getSdkPipelineOptions();
      displayData.append(env);
      assertFalse(displayData.toString().contains(PASSWORD), "password in display data");
      // The whole job as JSON: an inline password travels only inside the serialized DoFns
      // (snappy-compressed Java serialization in each step's "serialized_fn"), never as readable
      // text elsewhere. password_env / password_file connections keep even that out (only the
      // variable name or path is serialized; the worker resolves it in @Setup).
      String json = DataflowPipelineTranslator.jobToString(job);
      assertTrue(json.contains(PASSWORD), "expected inside serialized_fn (inline password)");
      for (Step step : job.getSteps()) {
        step.getProperties().remove("serialized_fn");
      }
      String withoutFns = DataflowPipelineTranslator.jobToString(job);
      assertFalse(withoutFns.contains(PASSWORD), "password readable outside the serialized DoFns");
    }
  }

  @Test
  void continuousRunTranslatesToADataflowStreamingJobWithoutThePassword() throws Exception {
    try (ExampleSource source = ExampleSource.builder().port(0).errorRate(0.0).start()) {
      DataflowPipelineOptions df = dataflowOptions(true);
      IngestPlan plan = plan(source, df);

      Pipeline pipeline = Pipeline.create(df);
      ContinuousPipeline.build(pipeline, plan, df.as(IngestOptions.class));
      Job job = DryRun.dataflowJob(pipeline, df);

      assertEquals("JOB_TYPE_STREAMING", job.getType());
      List<String> steps = DryRun.stepNames(job);
      for (PlannedTable table : plan.tables()) {
        String name = table.destination().key();
        String read = table.snapshot() != null ? name + "/Read snapshots" : name + "/Follow feeds";
        assertTrue(steps.stream().anyMatch(s -> s.startsWith(read)), () -> "no read step for " + name + " in " + steps);
        assertTrue(steps.stream().anyMatch(s -> s.startsWith(name + "/Commit intervals")),
            () -> "no committer for " + name + " in " + steps);
      }
      for (Step step : job.getSteps()) {
        step.getProperties().remove("serialized_fn");
      }
      assertFalse(DataflowPipelineTranslator.jobToString(job).contains(PASSWORD),
          "password readable outside the serialized DoFns");
    }
  }

  private DataflowPipelineOptions dataflowOptions(boolean streaming) throws Exception {
    IngestOptions options =
        PipelineOptionsFactory.fromArgs(
                "--spec=" + ProjectFiles.pipelines("example_ingest.json"), "--outputRoot=" + dir.resolve("output"))
            .as(IngestOptions.class);
    DataflowPipelineOptions df = options.as(DataflowPipelineOptions.class);
    df.setRunner(DataflowRunner.class);
    df.setStreaming(streaming);
    df.setProject("dummy-project");
    df.setRegion("us-central1");
    df.setJobName("example-ingest-translation-test");
    df.setTempLocation("gs://bucket/tmp");
    df.setStagingLocation("gs://bucket/staging");
    df.setGcpTempLocation("gs://bucket/tmp");
    df.setPathValidatorClass(NoopPathValidator.class);
    df.setCredentialFactoryClass(NoopCredentialFactory.class);
    df.setGcpCredential(new NoopCredentialFactory().getCredential());
    df.setFilesToStage(new ArrayList<>());
    // The planner reads committed state under the output root: a local one keeps this offline.
    FileSystems.setDefaultPipelineOptions(df);
    return df;
  }

  /** The example spec's plan, its connection's password inline, against the local source. */
  private static IngestPlan plan(ExampleSource source, DataflowPipelineOptions df) throws Exception {
    PipelineSpec spec = PipelineSpec.load(ProjectFiles.pipelines("example_ingest.json"));
    Connection connection =
        Connection.parse(
            "{\"username\": \"u\", \"password\": \"" + PASSWORD + "\", \"base_url\": \""
                + source.baseUrl() + "\", \"externalOptionsAllowList\":"
                + " \"max_records_per_batch,limit,window_seconds,category,user_id,status,start_timestamp\"}",
            "my_example_connection.json");
    SourceConfig sourceConfig =
        new SourceConfig(connection.baseUrl(), connection.username(), connection.password(),
            new RetryPolicy(1, Duration.ofMillis(1), Duration.ofMillis(1)));
    return IngestPlanner.plan(spec, "pipelines/example_ingest.json", connection, sourceConfig,
        df.as(IngestOptions.class), Instant.now());
  }
}
