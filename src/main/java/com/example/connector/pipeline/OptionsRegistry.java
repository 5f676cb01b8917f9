package com.example.connector.pipeline;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PipelineOptionsRegistrar;

/**
 * Beam's registry of options interfaces, limited to the ones a run on the DirectRunner or Flink
 * can use. Beam registers every interface its registrars on the class path name, and checks each
 * new one against all registered before it: 22 interfaces here (Dataflow's and Google Cloud's
 * among them, for the Dataflow runner), 1.6-2 s of a fresh JVM's start, against 0.6 s for the SDK's
 * and the run's runner's (measured, C1). A run on those runners never reads the others: without
 * them, their flags are an unknown option, as they would be without Dataflow's jars.
 *
 * <p>Beam reads its registrars through the thread's context class loader when {@link
 * PipelineOptionsFactory} initializes; {@link #limitTo} initializes it with a context loader that
 * lists only the kept registrars. It must run before anything else touches the factory; if
 * something did, it changes nothing.
 */
public final class OptionsRegistry {
  static final String REGISTRARS = "META-INF/services/" + PipelineOptionsRegistrar.class.getName();

  /** The runners whose runs are limited: those that need neither Dataflow's nor Google Cloud's options. */
  static final List<String> LIMITED_RUNNERS = List.of("direct", "flink");

  /** Registrars a DirectRunner or Flink run never needs: other runners' and Google Cloud's. */
  private static final List<String> OTHER_RUNNERS_AND_CLOUDS = List.of(
      "org.apache.beam.runners.", "org.apache.beam.sdk.extensions.gcp.", "org.apache.beam.sdk.io.gcp.");

  private OptionsRegistry() {}

  /** Limits the registry for the run these arguments describe ({@link RunnerConfig#runner}), if it runs on a limited runner. */
  public static void limitFor(String[] args) {
    RunnerConfig.runner(args).ifPresent(runner -> limitTo(List.of(runner)));
  }

  /**
   * Initializes Beam's options registry with the SDK's registrars and {@code runners}' ({@code
   * direct}, {@code flink}): a run's, or a benchmark's that runs on both in one JVM. Nothing if any
   * of them is not a {@link #LIMITED_RUNNERS limited} runner.
   */
  public static void limitTo(Collection<String> runners) {
    if (!LIMITED_RUNNERS.containsAll(runners)) {
      return;
    }
    Thread thread = Thread.currentThread();
    ClassLoader context = thread.getContextClassLoader();
    ClassLoader app = OptionsRegistry.class.getClassLoader();
    thread.setContextClassLoader(new RegistrarsOnly(app, kept(registrars(app), runners)));
    try {
      Class.forName(PipelineOptionsFactory.class.getName(), true, app);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("Beam's SDK is not on the class path", e);
    } finally {
      thread.setContextClassLoader(context);
    }
  }

  /** The registrars a run on {@code runners} keeps, in their order. */
  static List<String> kept(List<String> registrars, Collection<String> runners) {
    return registrars.stream()
        .filter(name -> runners.stream().anyMatch(runner -> name.startsWith("org.apache.beam.runners." + runner + "."))
            || OTHER_RUNNERS_AND_CLOUDS.stream().noneMatch(name::startsWith))
        .toList();
  }

  /** The registrar class names the class path's service files list, each once (a jar can come twice). */
  static List<String> registrars(ClassLoader loader) {
    Set<String> names = new LinkedHashSet<>();
    try {
      for (URL file : Collections.list(loader.getResources(REGISTRARS))) {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(file.openStream(), StandardCharsets.UTF_8))) {
          for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            String name = line.replaceFirst("#.*", "").strip();
            if (!name.isEmpty()) {
              names.add(name);
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + REGISTRARS, e);
    }
    return List.copyOf(names);
  }

  /** The application's class loader, but for the registrars' service file: only the kept names. */
  private static final class RegistrarsOnly extends ClassLoader {
    private final URL registrars;

    RegistrarsOnly(ClassLoader parent, List<String> kept) {
      super(parent);
      byte[] file = String.join("\n", kept).getBytes(StandardCharsets.UTF_8);
      try {
        this.registrars = new URL(null, "kept-registrars:" + REGISTRARS, new URLStreamHandler() {
          @Override
          protected URLConnection openConnection(URL url) {
            return new URLConnection(url) {
              @Override
              public void connect() {}

              @Override
              public InputStream getInputStream() {
                return new ByteArrayInputStream(file);
              }
            };
          }
        });
      } catch (java.net.MalformedURLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
      return name.equals(REGISTRARS) ? Collections.enumeration(List.of(registrars)) : super.getResources(name);
    }
  }
}
