package io.baton.testkit.cli;

import io.baton.testkit.upstream.TestH2Upstream;
import io.baton.testkit.upstream.TestUpstream;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code baton test-upstream}: the demo's HTTP upstream, for benchmarks and trying Baton by hand.
 */
@Command(
    name = "test-upstream",
    mixinStandardHelpOptions = true,
    description = {
      "Serve the demo's test upstream on 127.0.0.1 (/load/ID, /echo, /bytes/N, /delay/MS,"
          + " /status/CODE) until killed.",
      "With --h2c: HTTP/2 prior knowledge (/load/ID[?delay=MS], /echo, /status/CODE) and the gRPC"
          + " service baton.testing.v1.Echo on --grpc-port."
    })
final class UpstreamCommand implements Callable<Integer> {

  @Option(
      names = "--port",
      defaultValue = "9000",
      description = "Port on 127.0.0.1, 0 for any free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--h2c",
      description =
          "Serve HTTP/2 with prior knowledge (h2c) instead of HTTP/1.1, and gRPC on --grpc-port.")
  boolean h2c;

  @Option(
      names = "--grpc-port",
      defaultValue = "0",
      description =
          "With --h2c: the gRPC port on 127.0.0.1, 0 for any free one (default: ${DEFAULT-VALUE}).")
  int grpcPort;

  @Override
  public Integer call() throws Exception {
    if (h2c) {
      TestH2Upstream upstream = TestH2Upstream.start(port, grpcPort);
      Runtime.getRuntime().addShutdownHook(new Thread(upstream::close, "upstream-shutdown"));
      // Scripts wait for this line and read the ports from it.
      System.out.println(
          "h2c upstream listening 127.0.0.1:"
              + upstream.port()
              + " grpc 127.0.0.1:"
              + upstream.grpcPort());
    } else {
      TestUpstream upstream = TestUpstream.start(port);
      Runtime.getRuntime().addShutdownHook(new Thread(upstream::close, "upstream-shutdown"));
      // The bench script waits for this line and reads the port from it.
      System.out.println("upstream listening 127.0.0.1:" + upstream.port());
    }
    System.out.flush();
    new CountDownLatch(1).await();
    return 0;
  }
}
