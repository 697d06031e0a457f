package io.baton.testkit.demo;

import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.process.BatonConfigFile;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What {@code baton demo} runs: a real Baton process in front of a {@link TestUpstream}, under
 * keep-alive and connection-per-request load, handed off {@code handoffs} times to new processes;
 * then proves that no request failed and that every request id arrived at the upstream exactly
 * once.
 *
 * <p>Steps: start a {@link TestUpstream} on a free port; write a config in a temp dir (run dir
 * inside it, HTTP listener {@code web} on 127.0.0.1:0 — a handoff keeps the listener fd, so the
 * port stays — admin on 127.0.0.1:0, {@code X-Baton-Generation} on, drain 10 s); start generation
 * 1; run a 16-worker keep-alive {@link LoadClient} and an 8-worker {@code Connection: close} one
 * for {@code load}; every {@code load / (handoffs + 1)} start a new generation, wait for its
 * serving line and for the previous process to exit; print a table per generation and the id
 * accounting.
 */
public final class DemoRunner {

  private static final Duration SERVING_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(60);

  private DemoRunner() {}

  /** One generation's row. */
  private record Generation(
      long generation, long pid, long handoffMs, long oldExitMs, int exitCode) {}

  /**
   * Runs the demo.
   *
   * @param out where the report goes
   * @param jar the Baton jar to start ({@code java -jar JAR run --config ...})
   * @param handoffs how many handoffs to do during the load (0 or more)
   * @param load how long the load runs
   * @return 0 if no request failed, every id arrived exactly once and every process behaved; 1
   *     otherwise; 2 on bad arguments
   */
  public static int run(PrintStream out, Path jar, int handoffs, Duration load) {
    if (!Files.isRegularFile(jar)) {
      out.println("baton demo: no jar at " + jar);
      return 2;
    }
    if (handoffs < 0 || load.isNegative() || load.isZero()) {
      out.println("baton demo: handoffs must be >= 0 and the load duration > 0");
      return 2;
    }
    Path tmp = null;
    List<BatonProcess> processes = new ArrayList<>();
    List<LoadClient> clients = new ArrayList<>();
    TestUpstream upstream = null;
    boolean ok = false;
    try {
      tmp = Files.createTempDirectory("baton-demo-");
      upstream = TestUpstream.start(0);
      out.println("upstream: 127.0.0.1:" + upstream.port());
      Path config =
          BatonConfigFile.builder(tmp)
              .runDir(tmp.resolve("run"))
              .admin("127.0.0.1:0")
              .servingHeader(true)
              .drainTimeout("10s")
              .httpListener("web", "127.0.0.1:0", "app")
              .cluster("app", "127.0.0.1:" + upstream.port())
              .write();
      Path logs = tmp.resolve("logs");

      List<Generation> gens = new ArrayList<>();
      long t0 = System.nanoTime();
      BatonProcess current = BatonProcess.startLikeThisJvm(jar, config, logs);
      processes.add(current);
      ServingLine serving = current.awaitServing(SERVING_TIMEOUT);
      long firstMs = millisSince(t0);
      int webPort = serving.listener("web").getPort();
      out.printf(
          "generation %d serving: pid %d, web 127.0.0.1:%d, admin %s (%d ms)%n",
          serving.generation(), serving.pid(), webPort, serving.admin(), firstMs);
      long currentGen = serving.generation();
      long currentPid = serving.pid();
      long currentHandoffMs = firstMs;

      // Each generation serves for a slice of the load after it took over, however long its start
      // took: the load ends a slice after the last one serves, bounded by a minute per handoff.
      long slice = load.toNanos() / (handoffs + 1);
      Duration bound = load.plus(SERVING_TIMEOUT.multipliedBy(handoffs));
      LoadClient keepAlive =
          LoadClient.builder("127.0.0.1", webPort)
              .workers(16)
              .mode(LoadClient.Mode.KEEP_ALIVE)
              .maxDuration(bound)
              .idPrefix("ka")
              .build();
      LoadClient close =
          LoadClient.builder("127.0.0.1", webPort)
              .workers(8)
              .mode(LoadClient.Mode.CLOSE)
              .maxDuration(bound)
              .idPrefix("cl")
              .build();
      clients.add(keepAlive);
      clients.add(close);
      out.printf(
          "load: 16 keep-alive + 8 connection-close workers, %d handoff(s); each generation serves"
              + " %d ms under it%n",
          handoffs, TimeUnit.NANOSECONDS.toMillis(slice));
      keepAlive.start();
      close.start();
      long servingSince = System.nanoTime();

      boolean processesOk = true;
      for (int i = 1; i <= handoffs; i++) {
        sleepUntil(servingSince + slice);
        long hs = System.nanoTime();
        BatonProcess next = BatonProcess.startLikeThisJvm(jar, config, logs);
        processes.add(next);
        ServingLine ns = next.awaitServing(SERVING_TIMEOUT);
        servingSince = System.nanoTime();
        long handoffMs = millisSince(hs);
        long es = System.nanoTime();
        int code = current.awaitExit(EXIT_TIMEOUT);
        long exitMs = millisSince(es);
        gens.add(new Generation(currentGen, currentPid, currentHandoffMs, exitMs, code));
        if (code != 0) {
          processesOk = false;
        }
        if (ns.listener("web").getPort() != webPort) {
          out.printf(
              "generation %d listens on port %d, not %d%n",
              ns.generation(), ns.listener("web").getPort(), webPort);
          processesOk = false;
        }
        out.printf(
            "handoff %d: generation %d (pid %d) serving after %d ms; generation %d exited %d after"
                + " %d ms; so far %s%n",
            i,
            ns.generation(),
            ns.pid(),
            handoffMs,
            currentGen,
            code,
            exitMs,
            brief(keepAlive, close));
        current = next;
        currentGen = ns.generation();
        currentPid = ns.pid();
        currentHandoffMs = handoffMs;
      }

      sleepUntil(servingSince + slice);
      keepAlive.stop();
      close.stop();
      Duration wait = Duration.ofSeconds(30);
      LoadResult ka = keepAlive.awaitResult(wait);
      LoadResult cl = close.awaitResult(wait);
      gens.add(new Generation(currentGen, currentPid, currentHandoffMs, -1, Integer.MIN_VALUE));

      // Per-generation table.
      out.println();
      out.println("| generation | pid | requests served | handoff ms | old exit ms |");
      out.println("|---:|---:|---:|---:|---:|");
      long servedTotal = 0;
      for (Generation g : gens) {
        long served = ka.servedBy(g.generation()) + cl.servedBy(g.generation());
        servedTotal += served;
        out.printf(
            "| %d | %d | %d | %d | %s |%n",
            g.generation(),
            g.pid(),
            served,
            g.handoffMs(),
            g.oldExitMs() < 0
                ? "(still serving)"
                : g.oldExitMs() + (g.exitCode() == 0 ? "" : " (exit " + g.exitCode() + ")"));
      }
      out.println();
      out.println("keep-alive:       " + ka);
      out.println("connection-close: " + cl);

      // Id accounting at the upstream.
      Map<String, Integer> counts = upstream.idCounts();
      List<String> sent = new ArrayList<>(keepAlive.idsSent());
      sent.addAll(close.idsSent());
      Set<String> sentSet = new HashSet<>(sent);
      long once = 0;
      long duplicated = 0;
      long missing = 0;
      for (String id : sentSet) {
        int c = counts.getOrDefault(id, 0);
        if (c == 1) {
          once++;
        } else if (c == 0) {
          missing++;
        } else {
          duplicated++;
        }
      }
      long unknown = counts.keySet().stream().filter(id -> !sentSet.contains(id)).count();
      long failed = ka.failed() + cl.failed();
      long total = ka.attempted() + cl.attempted();
      out.println();
      out.printf(
          "ids sent %d, arrived exactly once %d, duplicated %d, missing %d%s%n",
          sentSet.size(),
          once,
          duplicated,
          missing,
          unknown > 0 ? ", unknown at the upstream " + unknown : "");
      out.printf(
          "requests %d, served with a generation header %d, failed requests total %d%n",
          total, servedTotal, failed);
      ok =
          failed == 0
              && duplicated == 0
              && missing == 0
              && unknown == 0
              && sentSet.size() == sent.size()
              && processesOk
              && total > 0;
      out.println(
          ok ? "RESULT: PASS — zero failed requests, every id exactly once" : "RESULT: FAIL");
      return ok ? 0 : 1;
    } catch (IOException | RuntimeException e) {
      out.println("baton demo failed: " + e);
      return 1;
    } finally {
      clients.forEach(LoadClient::stop);
      if (!ok) {
        for (BatonProcess p : processes) {
          String err = p.stderrText();
          if (!err.isBlank()) {
            out.println("--- log of pid " + p.pid() + " (last lines) ---");
            out.println(tail(err, 20));
          }
        }
      }
      for (BatonProcess p : processes) {
        try {
          p.close();
        } catch (RuntimeException e) {
          out.println("could not kill pid " + p.pid() + ": " + e);
        }
      }
      if (upstream != null) {
        upstream.close();
      }
      if (tmp != null) {
        deleteTree(tmp);
      }
    }
  }

  private static String brief(LoadClient a, LoadClient b) {
    LoadResult x = a.result();
    LoadResult y = b.result();
    return (x.attempted() + y.attempted()) + " requests, " + (x.failed() + y.failed()) + " failed";
  }

  private static String tail(String text, int n) {
    String[] lines = text.split("\n");
    return String.join(
        "\n", Arrays.copyOfRange(lines, Math.max(0, lines.length - n), lines.length));
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }

  private static void sleepUntil(long nanoTime) {
    long ms;
    while ((ms = (nanoTime - System.nanoTime()) / 1_000_000) > 0) {
      try {
        Thread.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }

  private static void deleteTree(Path root) {
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc)
                throws IOException {
              Files.deleteIfExists(dir);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      // best effort
    }
  }
}
