package io.baton.sidecar.demo;

import java.util.concurrent.CountDownLatch;

/**
 * Runs a {@link TestUpstream} until killed, for the bench: {@code java -cp baton.jar
 * io.baton.sidecar.demo.UpstreamMain --port P} ({@code --port 0} picks a free port). Prints {@code
 * upstream listening 127.0.0.1:<port>} once it listens.
 */
public final class UpstreamMain {

  private UpstreamMain() { }

  public static void main(String[] args) throws InterruptedException {
    int port = 0;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--port") && i + 1 < args.length) {
        port = Integer.parseInt(args[++i]);
      } else if (args[i].startsWith("--port=")) {
        port = Integer.parseInt(args[i].substring(7));
      } else {
        System.err.println("usage: UpstreamMain --port P");
        System.exit(2);
      }
    }
    TestUpstream upstream = TestUpstream.start(port);
    CountDownLatch forever = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(upstream::close, "upstream-shutdown"));
    System.out.println("upstream listening 127.0.0.1:" + upstream.port());
    System.out.flush();
    forever.await();
  }
}
