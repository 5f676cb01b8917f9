package com.example.source;

import java.io.PrintStream;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/** Command line entry point: runs the simulated Example source until killed. */
public final class ExampleSourceMain {
  private ExampleSourceMain() {}

  static final String USAGE = String.join("\n",
      "usage: ExampleSourceMain [options]",
      "  --port N               listen port (default 8080; 0 = ephemeral)",
      "  --bind HOST            bind address (default 127.0.0.1)",
      "  --rows t=N,...         seed volume per table (default products=53,events=101,users=37,orders=103,metrics=253)",
      "  --error-rate R         probability of an injected 429/500/503 (default 0.03)",
      "  --null-rate R          probability a nullable seed field is null (default 0.2)",
      "  --page-size t=N,...    override a table's max page size (default products=20,events=50,users=15,orders=40,metrics=100)",
      "  --seed N               seed of the data set (default 42)",
      "  --base-time ISO        base instant of the seed cursors (default 2024-01-01T00:00:00Z)",
      "  --ties K               K consecutive seed records share each cursor value (default 1)",
      "  --activity N           background writes per second (default 0)",
      "  --latency-ms N         delay every response by N ms, like a remote API (default 0)",
      "  --rate-limit N         calls per second per username, beyond it 429 + Retry-After (default 0 = unlimited)",
      "  --help                 this text");

  public static void main(String[] args) {
    ExampleSource.Builder b;
    try {
      b = parse(args);
    } catch (IllegalArgumentException e) {
      fail(System.err, e.getMessage());
      return;
    }
    if (b == null) {
      System.out.println(USAGE);
      return;
    }
    ExampleSource src;
    try {
      src = b.start();
    } catch (RuntimeException e) {
      System.err.println("error: " + e.getMessage() + (e.getCause() != null ? ": " + e.getCause().getMessage() : ""));
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(src::close, "source-shutdown"));
    System.out.println("listening on " + src.baseUrl());
    System.out.flush();
    try {
      Thread.currentThread().join(); // serve until killed
    } catch (InterruptedException e) {
      src.close();
    }
  }

  private static void fail(PrintStream err, String message) {
    err.println("error: " + message);
    err.println(USAGE);
    System.exit(2);
  }

  /** The configured builder, or null for --help. */
  static ExampleSource.Builder parse(String[] args) {
    ExampleSource.Builder b = ExampleSource.builder().port(8080);
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      String value = null;
      int eq = flag.indexOf('=');
      if (flag.startsWith("--") && eq > 0) {
        value = flag.substring(eq + 1);
        flag = flag.substring(0, eq);
      }
      if (flag.equals("--help") || flag.equals("-h")) {
        return null;
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("missing value for " + flag);
        }
        value = args[++i];
      }
      switch (flag) {
        case "--port": b.port(intArg(flag, value)); break;
        case "--bind": b.bind(value); break;
        case "--rows":
          for (String[] kv : pairs(flag, value)) {
            b.rows(kv[0], longArg(flag, kv[1]));
          }
          break;
        case "--error-rate": b.errorRate(doubleArg(flag, value)); break;
        case "--null-rate": b.nullRate(doubleArg(flag, value)); break;
        case "--page-size":
          for (String[] kv : pairs(flag, value)) {
            b.pageSize(kv[0], intArg(flag, kv[1]));
          }
          break;
        case "--seed": b.seed(longArg(flag, value)); break;
        case "--base-time": b.baseTime(instantArg(flag, value)); break;
        case "--ties": b.ties(intArg(flag, value)); break;
        case "--activity": b.activity(doubleArg(flag, value)); break;
        case "--latency-ms": b.latencyMs(longArg(flag, value)); break;
        case "--rate-limit": b.rateLimit(intArg(flag, value)); break;
        default: throw new IllegalArgumentException("unknown option: " + flag);
      }
    }
    return b;
  }

  private static String[][] pairs(String flag, String value) {
    String[] parts = value.split(",");
    String[][] out = new String[parts.length][];
    for (int i = 0; i < parts.length; i++) {
      String[] kv = parts[i].split("=", 2);
      if (kv.length != 2 || kv[0].isBlank()) {
        throw new IllegalArgumentException(flag + " expects table=N,...: " + value);
      }
      out[i] = new String[] {kv[0].trim(), kv[1].trim()};
    }
    return out;
  }

  private static int intArg(String flag, String v) {
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " expects an integer: " + v);
    }
  }

  private static long longArg(String flag, String v) {
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " expects an integer: " + v);
    }
  }

  private static double doubleArg(String flag, String v) {
    try {
      return Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " expects a number: " + v);
    }
  }

  private static Instant instantArg(String flag, String v) {
    try {
      return OffsetDateTime.parse(v.trim()).toInstant();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(flag + " expects an ISO-8601 timestamp with offset: " + v);
    }
  }
}
