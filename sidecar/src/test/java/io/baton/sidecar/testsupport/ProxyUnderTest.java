package io.baton.sidecar.testsupport;

import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.config.ClusterTlsConfig;
import io.baton.sidecar.config.DrainConfig;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerConfig;
import io.baton.sidecar.config.ListenerProtocol;
import io.baton.sidecar.config.ListenerTlsConfig;
import io.baton.sidecar.config.UpstreamProtocol;
import io.baton.sidecar.drain.DrainEvent;
import io.baton.sidecar.drain.DrainState;
import io.baton.sidecar.httpserver.CleartextHttpInitializer;
import io.baton.sidecar.httpserver.TlsListenerInitializer;
import io.baton.sidecar.listener.ConnectionObserver;
import io.baton.sidecar.listener.EventLoops;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.listener.ServingSocket;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.tcp.TcpRelayInitializer;
import io.baton.sidecar.tls.ServerTls;
import io.baton.sidecar.tls.TicketKeyRing;
import io.baton.sidecar.upstream.Cluster;
import io.baton.sidecar.upstream.Member;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * One listener of the real data plane on 127.0.0.1:0 (epoll, a real ServingSocket), proxying to the
 * given endpoints: what a Baton process runs, without the process around it.
 */
public final class ProxyUnderTest implements AutoCloseable {

  public final BatonMetrics metrics = new BatonMetrics();
  public final DrainState drain = new DrainState();
  private final EventLoops loops = EventLoops.start(2);
  private final ServingSocket socket;
  private final Cluster cluster;

  private ProxyUnderTest(
      ListenerProtocol protocol, Duration requestTimeout, List<HostPort> endpoints)
      throws Exception {
    this(protocol, requestTimeout, endpoints, System::nanoTime);
  }

  private ProxyUnderTest(
      ListenerProtocol protocol,
      Duration requestTimeout,
      List<HostPort> endpoints,
      LongSupplier nanoTime)
      throws Exception {
    this(
        protocol,
        requestTimeout,
        endpoints,
        nanoTime,
        UpstreamProtocol.HTTP1,
        DrainConfig.DEFAULT_HTTP2_GOAWAY_DELAY,
        Optional.empty(),
        Optional.empty(),
        List.of());
  }

  private ProxyUnderTest(
      ListenerProtocol protocol,
      Duration requestTimeout,
      List<HostPort> endpoints,
      LongSupplier nanoTime,
      UpstreamProtocol upstreamProtocol,
      Duration goawayDelay)
      throws Exception {
    this(
        protocol,
        requestTimeout,
        endpoints,
        nanoTime,
        upstreamProtocol,
        goawayDelay,
        Optional.empty(),
        Optional.empty(),
        List.of());
  }

  private ProxyUnderTest(
      ListenerProtocol protocol,
      Duration requestTimeout,
      List<HostPort> endpoints,
      LongSupplier nanoTime,
      UpstreamProtocol upstreamProtocol,
      Duration goawayDelay,
      Optional<ClusterTlsConfig> clusterTls,
      Optional<ListenerTlsConfig> listenerTls,
      List<TicketKeyRing> rings)
      throws Exception {
    ClusterConfig clusterConfig =
        new ClusterConfig(
            "backend",
            endpoints,
            Duration.ofSeconds(2),
            requestTimeout,
            Duration.ofSeconds(60),
            Optional.empty(),
            upstreamProtocol,
            clusterTls);
    cluster = new Cluster(clusterConfig, metrics.cluster("backend"), nanoTime, Clock.systemUTC());
    ListenerConfig listener =
        new ListenerConfig("web", new HostPort("127.0.0.1", 0), protocol, "backend", listenerTls);
    ListenerContext context =
        new ListenerContext(
            listener, cluster, metrics.listener("web"), drain, 7, true, goawayDelay);
    ChannelHandler initializer;
    if (listenerTls.isPresent()) {
      List<ChannelHandler> generations = new ArrayList<>();
      for (TicketKeyRing ring : rings) {
        generations.add(
            new TlsListenerInitializer(
                context, ServerTls.build("web", listenerTls.get(), ring), metrics.tls("web")));
      }
      initializer = inTurn(generations);
    } else {
      // What the process installs on an http listener: HTTP/1.1, or h2c when the preface says so.
      initializer =
          protocol == ListenerProtocol.HTTP
              ? new CleartextHttpInitializer(context)
              : new TcpRelayInitializer(context);
    }
    socket =
        ServingSocket.bind(
            "web",
            listener.address(),
            protocol.wireName(),
            loops.group(),
            initializer,
            ConnectionObserver.NONE);
    socket.startAccepting();
  }

  /** Each new connection gets the next of {@code initializers}, round the list. */
  private static ChannelHandler inTurn(List<ChannelHandler> initializers) {
    AtomicInteger next = new AtomicInteger();
    return new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        ch.pipeline().addLast(initializers.get(next.getAndIncrement() % initializers.size()));
      }
    };
  }

  /**
   * An HTTP listener terminating TLS with {@code tls}. Each new connection is served with the TLS
   * context of the next of {@code rings} in turn (connection 1 with rings[0], 2 with rings[1],
   * ...), as consecutive generations on one listening socket would be.
   */
  public static ProxyUnderTest https(
      ListenerTlsConfig tls, List<TicketKeyRing> rings, HostPort... endpoints) throws Exception {
    return new ProxyUnderTest(
        ListenerProtocol.HTTP,
        Duration.ofSeconds(15),
        List.of(endpoints),
        System::nanoTime,
        UpstreamProtocol.HTTP1,
        DrainConfig.DEFAULT_HTTP2_GOAWAY_DELAY,
        Optional.empty(),
        Optional.of(tls),
        rings);
  }

  /** A plain-text HTTP listener proxying to members over TLS. */
  public static ProxyUnderTest httpToTls(ClusterTlsConfig tls, HostPort... endpoints)
      throws Exception {
    return new ProxyUnderTest(
        ListenerProtocol.HTTP,
        Duration.ofSeconds(15),
        List.of(endpoints),
        System::nanoTime,
        UpstreamProtocol.HTTP1,
        DrainConfig.DEFAULT_HTTP2_GOAWAY_DELAY,
        Optional.of(tls),
        Optional.empty(),
        List.of());
  }

  /**
   * A plain-text HTTP listener (HTTP/1.1 and h2c) proxying to members that speak {@code upstream}
   * over TLS.
   */
  public static ProxyUnderTest httpToTls(
      UpstreamProtocol upstream, ClusterTlsConfig tls, HostPort... endpoints) throws Exception {
    return new ProxyUnderTest(
        ListenerProtocol.HTTP,
        Duration.ofSeconds(15),
        List.of(endpoints),
        System::nanoTime,
        upstream,
        DrainConfig.DEFAULT_HTTP2_GOAWAY_DELAY,
        Optional.of(tls),
        Optional.empty(),
        List.of());
  }

  public static ProxyUnderTest http(Duration requestTimeout, HostPort... endpoints)
      throws Exception {
    return new ProxyUnderTest(ListenerProtocol.HTTP, requestTimeout, List.of(endpoints));
  }

  /** An http listener (HTTP/1.1 and h2c) whose cluster speaks {@code upstream}. */
  public static ProxyUnderTest http(
      Duration requestTimeout,
      UpstreamProtocol upstream,
      Duration goawayDelay,
      HostPort... endpoints)
      throws Exception {
    return new ProxyUnderTest(
        ListenerProtocol.HTTP,
        requestTimeout,
        List.of(endpoints),
        System::nanoTime,
        upstream,
        goawayDelay);
  }

  public static ProxyUnderTest tcp(HostPort... endpoints) throws Exception {
    return new ProxyUnderTest(ListenerProtocol.TCP, Duration.ofSeconds(15), List.of(endpoints));
  }

  /**
   * An HTTP proxy to {@code members}, as discovery would set them; passive health runs on {@code
   * nanoTime}, so a test moves past a {@code failTimeout} without waiting for it.
   */
  public static ProxyUnderTest http(
      Duration requestTimeout, LongSupplier nanoTime, List<Member> members) throws Exception {
    ProxyUnderTest proxy =
        new ProxyUnderTest(ListenerProtocol.HTTP, requestTimeout, List.of(), nanoTime);
    proxy.cluster.replaceMembers(members);
    return proxy;
  }

  /** A TCP proxy to {@code members}, as discovery would set them. */
  public static ProxyUnderTest tcp(List<Member> members) throws Exception {
    ProxyUnderTest proxy =
        new ProxyUnderTest(
            ListenerProtocol.TCP, Duration.ofSeconds(15), List.of(), System::nanoTime);
    proxy.cluster.replaceMembers(members);
    return proxy;
  }

  /** The cluster behind the listener: its members can be replaced while the proxy serves. */
  public Cluster cluster() {
    return cluster;
  }

  public InetSocketAddress address() {
    return socket.boundAddress();
  }

  public int openConnections() {
    return socket.openConnections();
  }

  /**
   * Stops taking connections from the listening socket's backlog: a client's connect still
   * completes (the kernel answers it), and what it sends waits in its socket until {@link
   * #startAccepting()}.
   */
  public void stopAccepting() {
    socket.stopAccepting();
  }

  public void startAccepting() {
    socket.startAccepting();
  }

  /**
   * What the drain does to every open connection of a process; returns once every connection's
   * event loop has seen it, so that a test's next step (releasing a held upstream answer) cannot
   * overtake it.
   */
  public void startDrain() {
    drain.set(DrainState.Mode.DRAINING);
    List<Future<?>> seen = new ArrayList<>();
    socket.forEachConnection(
        ch ->
            seen.add(
                ch.eventLoop()
                    .submit(() -> ch.pipeline().fireUserEventTriggered(DrainEvent.DRAIN_STARTED))));
    seen.forEach(Future::syncUninterruptibly);
  }

  @Override
  public void close() {
    socket.closeListener();
    socket.closeConnections();
    loops.close();
  }
}
