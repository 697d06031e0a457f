package io.baton.sidecar.cli;

import io.baton.sidecar.demo.TestUpstream;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code baton test-upstream}: the demo's HTTP upstream, for benchmarks and trying Baton by hand. */
@Command(name = "test-upstream", mixinStandardHelpOptions = true,
    description = "Serve the demo's test upstream on 127.0.0.1 (/load/ID, /echo, /bytes/N, /delay/MS, /status/CODE) until killed.")
final class UpstreamCommand implements Callable<Integer> {

  @Option(names = "--port", defaultValue = "9000", description = "Port on 127.0.0.1, 0 for any free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Override
  public Integer call() throws Exception {
    TestUpstream upstream = TestUpstream.start(port);
    Runtime.getRuntime().addShutdownHook(new Thread(upstream::close, "upstream-shutdown"));
    // The bench script waits for this line and reads the port from it.
    System.out.println("upstream listening 127.0.0.1:" + upstream.port());
    System.out.flush();
    new CountDownLatch(1).await();
    return 0;
  }
}
