package io.baton.sidecar.testsupport;

import static org.awaitility.Awaitility.await;

import io.baton.sidecar.config.HostPort;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A real single-member etcd (the {@code etcd} binary on the PATH, 3.4+) on 127.0.0.1 with its own
 * data directory, written to through {@code etcdctl}. It can be stopped and started again on the
 * same data (and the same or another client port), which is how tests take etcd away from a
 * watcher. Its output goes to {@link #log()} in its temp directory; every error of this class names
 * that file and quotes its end. {@link #close()} kills it and deletes the temp directory.
 *
 * <p>etcd missing is a failure, not a skip: CI installs it (scripts/install-test-deps.sh).
 */
public final class EtcdProcess implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(15);
  private static final Pattern REVISION = Pattern.compile("\"revision\":(\\d+)");

  private final Path dir;
  private final Path dataDir;
  private final Path log;
  private final int peerPort;
  private int clientPort;
  private Process process;

  private EtcdProcess(Path dir, int clientPort, int peerPort) {
    this.dir = dir;
    this.dataDir = dir.resolve("data");
    this.log = dir.resolve("etcd.log");
    this.clientPort = clientPort;
    this.peerPort = peerPort;
  }

  /** Starts etcd on a free client port and waits until it serves. */
  public static EtcdProcess start() {
    return start(freePort());
  }

  /**
   * Starts etcd on {@code clientPort} (e.g. one a watcher already dials) and waits until it serves.
   */
  public static EtcdProcess start(int clientPort) {
    requireOnPath("etcd");
    requireOnPath("etcdctl");
    Path dir;
    try {
      dir = Files.createTempDirectory("baton-etcd-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    EtcdProcess etcd = new EtcdProcess(dir, clientPort, freePort());
    try {
      etcd.launch();
    } catch (RuntimeException e) {
      etcd.close();
      throw e;
    }
    return etcd;
  }

  /** A port nothing listens on right now (bound to port 0 and released). */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public HostPort endpoint() {
    return new HostPort("127.0.0.1", clientPort);
  }

  public int clientPort() {
    return clientPort;
  }

  /** etcd's output, all runs appended. */
  public Path log() {
    return log;
  }

  /** Writes a key; returns the revision of the write. */
  public long put(String key, String value) {
    return revisionOf(etcdctl("put", key, value, "-w", "json"));
  }

  /**
   * Deletes a key; returns the revision of the deletion (the current one if there was no such key).
   */
  public long delete(String key) {
    return revisionOf(etcdctl("del", key, "-w", "json"));
  }

  public long currentRevision() {
    return revisionOf(etcdctl("get", "/", "--count-only", "-w", "json"));
  }

  /** Discards the history before {@code revision} and waits until it is gone from the database. */
  public void compact(long revision) {
    etcdctl("compact", Long.toString(revision), "--physical");
  }

  /**
   * etcd's count of open watch streams (its {@code etcd_debugging_mvcc_watch_stream_total} gauge).
   */
  public long watchStreams() {
    String metrics;
    try {
      HttpURLConnection http =
          (HttpURLConnection)
              URI.create("http://127.0.0.1:" + clientPort + "/metrics").toURL().openConnection();
      http.setConnectTimeout((int) COMMAND_TIMEOUT.toMillis());
      http.setReadTimeout((int) COMMAND_TIMEOUT.toMillis());
      try (var in = http.getInputStream()) {
        metrics = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } finally {
        http.disconnect();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(failure("reading /metrics failed"), e);
    }
    return metrics
        .lines()
        .filter(line -> line.startsWith("etcd_debugging_mvcc_watch_stream_total "))
        .mapToLong(line -> (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1)))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    failure("no etcd_debugging_mvcc_watch_stream_total in /metrics")));
  }

  /**
   * Stops etcd (SIGTERM, then SIGKILL after 10 s) and waits until it has exited; its data stays.
   */
  public void stop() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  /** Starts etcd again on the same data and client port (after {@link #stop()}). */
  public void restart() {
    restart(clientPort);
  }

  /**
   * Starts etcd again on the same data but another client port: a watcher that only knows the old
   * port cannot see it, so what is written now happens, for that watcher, while etcd is away.
   */
  public void restart(int newClientPort) {
    if (process != null) {
      throw new IllegalStateException(
          "etcd on " + endpoint() + " still runs (expected: stop() first)");
    }
    clientPort = newClientPort;
    launch();
  }

  /** The last {@code lines} lines of etcd's output. */
  public String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /** Kills etcd and deletes its temp directory (data and log). */
  @Override
  public void close() {
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      process = null;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("deleting " + dir, e);
    }
  }

  @Override
  public String toString() {
    return "etcd on " + endpoint() + " (log: " + log + ")";
  }

  private void launch() {
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + peerPort;
    ProcessBuilder builder =
        new ProcessBuilder(
                "etcd",
                "--name",
                "default",
                "--data-dir",
                dataDir.toString(),
                "--listen-client-urls",
                client,
                "--advertise-client-urls",
                client,
                "--listen-peer-urls",
                peer,
                "--initial-advertise-peer-urls",
                peer,
                "--initial-cluster",
                "default=" + peer)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("starting etcd (log: " + log + ")", e);
    }
    try {
      await()
          .atMost(START_TIMEOUT)
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(100))
          .until(this::serves);
    } catch (ConditionTimeoutException e) {
      throw new IllegalStateException(
          failure("etcd did not serve within " + START_TIMEOUT.toSeconds() + " s"), e);
    }
  }

  private boolean serves() {
    if (!process.isAlive()) {
      throw new IllegalStateException(failure("etcd exited with status " + process.exitValue()));
    }
    return run(List.of("endpoint", "health", "--command-timeout=1s")).exitCode == 0;
  }

  private String etcdctl(String... args) {
    Result result = run(List.of(args));
    if (result.exitCode != 0) {
      throw new IllegalStateException(
          failure(
              "etcdctl "
                  + String.join(" ", args)
                  + " exited with "
                  + result.exitCode
                  + ": "
                  + result.output.strip()));
    }
    return result.output;
  }

  private Result run(List<String> args) {
    List<String> command =
        new ArrayList<>(
            List.of(
                "etcdctl",
                "--endpoints=127.0.0.1:" + clientPort,
                "--dial-timeout=2s",
                "--command-timeout=" + COMMAND_TIMEOUT.toSeconds() + "s"));
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("ETCDCTL_API", "3");
    try {
      Process ctl = builder.start();
      ctl.getOutputStream().close();
      byte[] output =
          ctl.getInputStream()
              .readAllBytes(); // ends when etcdctl exits (its own timeouts bound it)
      if (!ctl.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        ctl.destroyForcibly();
        throw new IllegalStateException(failure(String.join(" ", command) + " did not exit"));
      }
      return new Result(ctl.exitValue(), new String(output, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(String.join(" ", command), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private long revisionOf(String json) {
    Matcher m = REVISION.matcher(json);
    if (!m.find()) {
      throw new IllegalStateException(
          failure("no header revision in etcdctl's output: " + json.strip()));
    }
    return Long.parseLong(m.group(1));
  }

  private String failure(String what) {
    return this + ": " + what + "\n--- last lines of " + log + " ---\n" + logTail(20);
  }

  private static void requireOnPath(String binary) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String entry : path.split(":")) {
      if (!entry.isEmpty() && Files.isExecutable(Path.of(entry, binary))) {
        return;
      }
    }
    throw new IllegalStateException(
        binary
            + " is not on the PATH ("
            + path
            + "): the etcd tests need a real etcd 3.4+ and etcdctl;"
            + " scripts/install-test-deps.sh installs Debian's etcd-server and etcd-client");
  }

  private record Result(int exitCode, String output) {}
}
