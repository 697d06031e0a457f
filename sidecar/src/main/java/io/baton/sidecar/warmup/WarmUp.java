package io.baton.sidecar.warmup;

import com.sun.management.OperatingSystemMXBean;
import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerConfig;
import io.baton.sidecar.config.ListenerProtocol;
import io.baton.sidecar.config.UpstreamProtocol;
import io.baton.sidecar.drain.DrainState;
import io.baton.sidecar.httpserver.CleartextHttpInitializer;
import io.baton.sidecar.listener.ConnectionObserver;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.listener.ServingSocket;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.tcp.TcpRelayInitializer;
import io.baton.sidecar.upstream.Cluster;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a new generation's own data paths on loopback before it accepts (see the package doc): for
 * each kind of path the config has, a warm-up listener of that kind proxies to an in-process
 * upstream while in-process clients load it, closed-loop, until the request budget is spent or the
 * time is up. Everything it built is closed before it returns.
 */
public final class WarmUp {

  private static final Logger log = LoggerFactory.getLogger(WarmUp.class);
  private static final HostPort LOOPBACK_ANY_PORT = new HostPort("127.0.0.1", 0);

  /**
   * How much warm-up: {@code requests} through the HTTP/1.1 keep-alive path, the others in
   * proportion.
   */
  public record Budget(int requests, Duration timeout) {
    public boolean isOff() {
      return requests <= 0 || timeout.isZero();
    }
  }

  /** What the warm-up did, for the log and for tests. */
  public record Report(Map<String, Integer> answered, Duration took, boolean timedOut) {
    int total() {
      return answered.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  private final EventLoopGroup loops;
  private final long generation;
  private final Duration http2GoawayDelay;
  private final BatonMetrics scratch = new BatonMetrics();
  private final List<AutoCloseable> built = new ArrayList<>();

  private WarmUp(EventLoopGroup loops, long generation, Duration http2GoawayDelay) {
    this.loops = loops;
    this.generation = generation;
    this.http2GoawayDelay = http2GoawayDelay;
  }

  /**
   * Warms the paths of {@code listeners} and {@code clusters} on {@code loops}; never throws (a
   * failure is logged: the warm-up only makes the first requests faster).
   */
  public static Report run(
      EventLoopGroup loops,
      List<ListenerConfig> listeners,
      List<ClusterConfig> clusters,
      long generation,
      Duration http2GoawayDelay,
      Budget budget) {
    if (budget.isOff()) {
      return new Report(Map.of(), Duration.ZERO, false);
    }
    long started = System.nanoTime();
    long cpuBefore = processCpuNanos();
    WarmUp warmUp = new WarmUp(loops, generation, http2GoawayDelay);
    try {
      Report report = warmUp.drive(listeners, clusters, budget, started);
      log.info(
          "warm-up: {} requests through this process's own listeners and upstream clients on"
              + " loopback in {} ms, {} ms of CPU{}: {}",
          report.total(),
          report.took().toMillis(),
          TimeUnit.NANOSECONDS.toMillis(processCpuNanos() - cpuBefore),
          report.timedOut() ? " (stopped at warmUpTimeout " + budget.timeout() + ")" : "",
          report.answered());
      return report;
    } catch (IOException | RuntimeException e) {
      log.warn(
          "warm-up: skipped after {} ms: {}; the first requests meet colder code",
          millisSince(started),
          e.toString());
      return new Report(Map.of(), Duration.ofNanos(System.nanoTime() - started), false);
    } finally {
      warmUp.closeAll();
    }
  }

  private Report drive(
      List<ListenerConfig> listeners, List<ClusterConfig> clusters, Budget budget, long started)
      throws IOException {
    boolean http = listeners.stream().anyMatch(l -> l.protocol() == ListenerProtocol.HTTP);
    boolean tcp = listeners.stream().anyMatch(l -> l.protocol() == ListenerProtocol.TCP);
    boolean h2Upstream = clusters.stream().anyMatch(c -> c.protocol() == UpstreamProtocol.H2C);
    int n = budget.requests();
    WarmUpUpstream http1Upstream = keep(WarmUpUpstream.http1(loops));
    Map<String, CompletableFuture<Integer>> paths = new LinkedHashMap<>();
    if (http) {
      InetSocketAddress web =
          listener(
              "warm-up-http",
              ListenerProtocol.HTTP,
              cluster("warm-up-http1", UpstreamProtocol.HTTP1, http1Upstream),
              CleartextHttpInitializer::new);
      paths.put("http1 keep-alive", WarmUpDriver.http1KeepAlive(loops, web, 4, n));
      paths.put("http1 close", WarmUpDriver.http1Close(loops, web, 4, n / 20));
      paths.put("h2c", WarmUpDriver.h2c(loops, web, 2, 4, n / 2));
      if (h2Upstream) {
        WarmUpUpstream h2cUpstream = keep(WarmUpUpstream.h2c(loops));
        InetSocketAddress toH2c =
            listener(
                "warm-up-h2c",
                ListenerProtocol.HTTP,
                cluster("warm-up-h2c", UpstreamProtocol.H2C, h2cUpstream),
                CleartextHttpInitializer::new);
        paths.put("h2c to an h2c cluster", WarmUpDriver.h2c(loops, toH2c, 2, 4, n / 2));
        paths.put("http1 to an h2c cluster", WarmUpDriver.http1KeepAlive(loops, toH2c, 2, n / 4));
      }
    }
    if (tcp) {
      InetSocketAddress relay =
          listener(
              "warm-up-tcp",
              ListenerProtocol.TCP,
              cluster("warm-up-tcp", UpstreamProtocol.HTTP1, http1Upstream),
              TcpRelayInitializer::new);
      paths.put("tcp relay", WarmUpDriver.http1Close(loops, relay, 4, n / 20));
    }
    CompletableFuture<Void> all =
        CompletableFuture.allOf(paths.values().toArray(CompletableFuture[]::new));
    boolean timedOut = false;
    try {
      all.get(budget.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      timedOut = true;
    } catch (ExecutionException e) {
      throw new IllegalStateException("a warm-up client failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      timedOut = true;
    }
    Map<String, Integer> answered = new LinkedHashMap<>();
    paths.forEach((name, done) -> answered.put(name, done.getNow(-1)));
    return new Report(answered, Duration.ofNanos(System.nanoTime() - started), timedOut);
  }

  private Cluster cluster(String name, UpstreamProtocol protocol, WarmUpUpstream upstream) {
    ClusterConfig config =
        new ClusterConfig(
            name,
            List.of(new HostPort("127.0.0.1", upstream.port())),
            Duration.ofSeconds(2),
            Duration.ofSeconds(5),
            Duration.ofSeconds(60),
            Optional.empty(),
            protocol,
            Optional.empty());
    return new Cluster(config, scratch.cluster(name));
  }

  /** A warm-up listener on 127.0.0.1:0, accepting; its address. */
  private InetSocketAddress listener(
      String name,
      ListenerProtocol protocol,
      Cluster cluster,
      Function<ListenerContext, ChannelHandler> initializer)
      throws IOException {
    ListenerConfig config = new ListenerConfig(name, LOOPBACK_ANY_PORT, protocol, cluster.name());
    ListenerContext context =
        new ListenerContext(
            config,
            cluster,
            scratch.listener(name),
            new DrainState(),
            generation,
            false,
            http2GoawayDelay);
    ServingSocket socket =
        ServingSocket.bind(
            name,
            LOOPBACK_ANY_PORT,
            protocol.wireName(),
            loops,
            initializer.apply(context),
            ConnectionObserver.NONE);
    built.add(
        () -> {
          socket.closeListener();
          socket.closeConnections();
        });
    socket.startAccepting();
    return socket.boundAddress();
  }

  private <T extends AutoCloseable> T keep(T resource) {
    built.add(resource);
    return resource;
  }

  /**
   * Listeners (and their connections) first, then the upstreams (and theirs, so the pools keep
   * none).
   */
  private void closeAll() {
    List<AutoCloseable> order = new ArrayList<>(built);
    order.sort((a, b) -> Boolean.compare(a instanceof WarmUpUpstream, b instanceof WarmUpUpstream));
    for (AutoCloseable resource : order) {
      try {
        resource.close();
      } catch (Exception e) {
        log.warn("warm-up: releasing {} failed: {}", resource, e.toString());
      }
    }
  }

  /**
   * CPU time of the whole process (every thread, the JIT compilers too); 0 where the JVM cannot
   * say.
   */
  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os) {
      return Math.max(0, os.getProcessCpuTime());
    }
    return 0;
  }

  private static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }
}
