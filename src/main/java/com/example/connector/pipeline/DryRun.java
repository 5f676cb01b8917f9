package com.example.connector.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.services.dataflow.model.Job;
import com.google.api.services.dataflow.model.Step;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.dataflow.DataflowPipelineTranslator;
import org.apache.beam.runners.dataflow.DataflowRunner;
import org.apache.beam.runners.dataflow.options.DataflowPipelineOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.util.ReleaseInfo;
import org.apache.beam.sdk.util.construction.Environments;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.util.construction.SdkComponents;

/**
 * {@code --dryRun}: prints the job graph the configured runner would get, without submitting it:
 * Dataflow's translated job steps, Flink's execution plan, or (DirectRunner) Beam's transform
 * hierarchy. Each translation is the runner's own, done offline.
 */
final class DryRun {
  private DryRun() {}

  static void print(Pipeline pipeline, IngestOptions options, PrintStream out) {
    Class<?> runner = options.getRunner();
    if (DataflowRunner.class.isAssignableFrom(runner)) {
      printDataflowSteps(dataflowJob(pipeline, options.as(DataflowPipelineOptions.class)), out);
    } else if (FlinkRunner.class.isAssignableFrom(runner)) {
      printFlinkPlan(flinkExecutionPlan(pipeline, options.as(FlinkPipelineOptions.class)), out);
    } else {
      printTransforms(pipeline, out);
    }
    out.println("dry run: nothing was submitted or written");
  }

  /** Opens DataflowRunner's pre-translation overrides (what its run() applies before translating). */
  private static final class OfflineDataflowRunner extends DataflowRunner {
    OfflineDataflowRunner(DataflowPipelineOptions options) {
      super(options);
    }

    void replaceTransforms(Pipeline pipeline) {
      replaceV1Transforms(pipeline);
    }
  }

  /**
   * The Dataflow job {@code run()} would submit, translated offline: the runner's overrides, the
   * portable proto and Dataflow's v1beta3 translation, with no files staged.
   */
  static Job dataflowJob(Pipeline pipeline, DataflowPipelineOptions options) {
    OfflineDataflowRunner runner = new OfflineDataflowRunner(options);
    runner.replaceTransforms(pipeline);
    SdkComponents components = SdkComponents.create();
    components.registerEnvironment(
        Environments.createDockerEnvironment(
                "apache/beam_java17_sdk:" + ReleaseInfo.getReleaseInfo().getSdkVersion())
            .toBuilder()
            .addAllCapabilities(Environments.getJavaCapabilities())
            .build());
    RunnerApi.Pipeline proto = PipelineTranslation.toProto(pipeline, components, true);
    return DataflowPipelineTranslator.fromOptions(options)
        .translate(pipeline, proto, components, runner, List.of())
        .getJob();
  }

  /** Each step's user-visible name (a {@code {@type: Text, value: NAME}} property). */
  static List<String> stepNames(Job job) {
    List<String> names = new ArrayList<>();
    for (Step step : job.getSteps()) {
      Object name = step.getProperties().get("user_name");
      names.add(String.valueOf(name instanceof Map<?, ?> m ? m.get("value") : name));
    }
    return names;
  }

  private static void printDataflowSteps(Job job, PrintStream out) {
    List<String> names = stepNames(job);
    out.println("Dataflow job '" + job.getName() + "': " + names.size() + " steps");
    for (int i = 0; i < names.size(); i++) {
      Step step = job.getSteps().get(i);
      out.printf("  %-5s %-22s %s%n", step.getName(), step.getKind(), names.get(i));
    }
  }

  /**
   * Flink's JSON execution plan of the translated job. Beam 2.62 keeps its Flink translation
   * environment package-private, so it is reached by reflection; nothing is executed.
   */
  static String flinkExecutionPlan(Pipeline pipeline, FlinkPipelineOptions options) {
    try {
      Class<?> type = Class.forName("org.apache.beam.runners.flink.FlinkPipelineExecutionEnvironment");
      Constructor<?> create = type.getDeclaredConstructor(FlinkPipelineOptions.class);
      create.setAccessible(true);
      Object env = create.newInstance(options);
      Method translate = type.getMethod("translate", Pipeline.class);
      translate.setAccessible(true);
      translate.invoke(env, pipeline);
      Method batch = type.getDeclaredMethod("getBatchExecutionEnvironment");
      batch.setAccessible(true);
      Object batchEnv = batch.invoke(env);
      if (batchEnv != null) {
        return ((org.apache.flink.api.java.ExecutionEnvironment) batchEnv).getExecutionPlan();
      }
      Method stream = type.getDeclaredMethod("getStreamExecutionEnvironment");
      stream.setAccessible(true);
      return ((org.apache.flink.streaming.api.environment.StreamExecutionEnvironment) stream.invoke(env))
          .getExecutionPlan();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot translate the pipeline for Flink: " + e, e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot build Flink's execution plan: " + e, e);
    }
  }

  /** One line per Flink operator: id, kind, contents, parallelism, and the ids it reads from. */
  private static void printFlinkPlan(String json, PrintStream out) {
    JsonNode nodes;
    try {
      nodes = new ObjectMapper().readTree(json).path("nodes");
    } catch (java.io.IOException e) {
      throw new IllegalStateException("Flink's execution plan is not JSON: " + e.getMessage(), e);
    }
    out.println("Flink execution plan: " + nodes.size() + " operators");
    for (JsonNode node : nodes) {
      List<String> inputs = new ArrayList<>();
      node.path("predecessors").forEach(p -> inputs.add(p.path("id").asText()));
      out.printf("  %4s  %-18s %s (parallelism %s)%s%n",
          node.path("id").asText(), node.path("pact").asText(), node.path("contents").asText(),
          node.path("parallelism").asText(), inputs.isEmpty() ? "" : " <- " + String.join(", ", inputs));
    }
  }

  /** Beam's transform hierarchy, one transform a line, nested by indentation. */
  private static void printTransforms(Pipeline pipeline, PrintStream out) {
    out.println("Beam transforms (as the DirectRunner runs them):");
    pipeline.traverseTopologically(
        new Pipeline.PipelineVisitor.Defaults() {
          private int depth;

          @Override
          public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
            if (!node.isRootNode()) {
              line(node);
              depth++;
            }
            return CompositeBehavior.ENTER_TRANSFORM;
          }

          @Override
          public void leaveCompositeTransform(TransformHierarchy.Node node) {
            if (!node.isRootNode()) {
              depth--;
            }
          }

          @Override
          public void visitPrimitiveTransform(TransformHierarchy.Node node) {
            line(node);
          }

          private void line(TransformHierarchy.Node node) {
            String name = node.getFullName();
            String enclosing = node.getEnclosingNode() == null || node.getEnclosingNode().isRootNode()
                ? "" : node.getEnclosingNode().getFullName() + "/";
            out.println("  ".repeat(depth + 1) + (name.startsWith(enclosing) ? name.substring(enclosing.length()) : name));
          }
        });
  }
}
