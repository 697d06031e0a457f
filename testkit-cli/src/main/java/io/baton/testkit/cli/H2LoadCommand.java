package io.baton.testkit.cli;

import io.baton.sidecar.config.Durations;
import io.baton.testkit.load.H2LoadClient;
import io.baton.testkit.load.H2LoadResult;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code baton h2-load}: a bounded h2c load that honours GOAWAY and never retries a stream the
 * server may have processed; prints completed, failed and refused streams. For bench/ and hand runs
 * across handoffs, where h2load miscounts (design.md).
 */
@Command(
    name = "h2-load",
    mixinStandardHelpOptions = true,
    description = {
      "Run a bounded HTTP/2 (h2c prior knowledge) load: C connections x S concurrent streams, GET"
          + " PATH<id>QUERY, for --duration or --requests; print the counts.",
      "Failed = the server may have processed the stream (reset, connection lost, non-2xx,"
          + " timeout); refused = provably never processed (above GOAWAY last-stream-id or"
          + " REFUSED_STREAM), sent again and counted apart.",
      "SIGTERM or Ctrl-C ends it early: no new streams, the ones in flight finish, the counts are"
          + " printed.",
      "Exit code: 0 when no stream failed, 1 otherwise."
    })
final class H2LoadCommand implements Callable<Integer> {

  @Option(
      names = "--host",
      defaultValue = "127.0.0.1",
      description = "Host (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", required = true, description = "Port.")
  int port;

  @Option(
      names = {"-c", "--connections"},
      defaultValue = "16",
      description = "Connections (default: ${DEFAULT-VALUE}).")
  int connections;

  @Option(
      names = {"-s", "--streams"},
      defaultValue = "8",
      description = "Concurrent streams per connection (default: ${DEFAULT-VALUE}).")
  int streams;

  @Option(
      names = {"-d", "--duration"},
      description = "How long to issue requests, e.g. 10s.")
  String duration;

  @Option(
      names = {"-n", "--requests"},
      description = "How many requests to issue.")
  Long requests;

  @Option(
      names = "--path",
      defaultValue = "/load/",
      description = "Path the request id is appended to (default: ${DEFAULT-VALUE}).")
  String path;

  @Option(
      names = "--query",
      defaultValue = "",
      description = "Appended after the id, e.g. ?delay=20.")
  String query;

  @Option(
      names = "--stream-timeout",
      defaultValue = "10s",
      description = "A stream without an end this long fails (default: ${DEFAULT-VALUE}).")
  String streamTimeout;

  @Override
  public Integer call() throws Exception {
    if (duration == null && requests == null) {
      throw new CommandLine.ParameterException(
          new CommandLine(this), "--duration or --requests is required (the load must be bounded)");
    }
    H2LoadClient.Builder b =
        H2LoadClient.builder(host, port)
            .connections(connections)
            .streams(streams)
            .path(path)
            .query(query)
            .streamTimeout(parse("--stream-timeout", streamTimeout));
    if (duration != null) {
      b.maxDuration(parse("--duration", duration));
    }
    if (requests != null) {
      b.maxRequests(requests);
    }
    H2LoadClient client = b.build().start();
    // A script that cannot know how long its handoffs take stops the load with SIGTERM: the JVM
    // runs this hook, which lets the streams in flight finish and waits until the counts are out.
    CountDownLatch printed = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              client.stop();
              try {
                printed.await(60, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "h2-load-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    H2LoadResult r = client.awaitResult(Duration.ofDays(1));
    // One line of key=value for scripts, then the readable summary.
    System.out.printf(
        "h2-load: attempted=%d completed=%d failed=%d refused=%d goaways=%d connections=%d"
            + " rate=%.0f%n",
        r.attempted(),
        r.completed(),
        r.failed(),
        r.refused(),
        r.goawaysReceived(),
        r.connectionsOpened(),
        r.completedPerSecond());
    System.out.println(r);
    System.out.flush();
    printed.countDown();
    return r.failed() == 0 ? 0 : 1;
  }

  private static Duration parse(String option, String value) {
    Duration d = Durations.parseOrNull(value);
    if (d == null) {
      throw new IllegalArgumentException(
          option + ": \"" + value + "\" (expected a duration such as 10s or 500ms)");
    }
    return d;
  }
}
