package io.baton.sidecar.testsupport;

import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerConfig;
import io.baton.sidecar.config.ListenerProtocol;
import io.baton.sidecar.drain.DrainEvent;
import io.baton.sidecar.drain.DrainState;
import io.baton.sidecar.http1.Http1ProxyInitializer;
import io.baton.sidecar.listener.ConnectionObserver;
import io.baton.sidecar.listener.EventLoops;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.listener.ServingSocket;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.tcp.TcpRelayInitializer;
import io.baton.sidecar.upstream.Cluster;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * One listener of the real data plane on 127.0.0.1:0 (epoll, a real ServingSocket), proxying to
 * the given endpoints: what a Baton process runs, without the process around it.
 */
public final class ProxyUnderTest implements AutoCloseable {

  public final BatonMetrics metrics = new BatonMetrics();
  public final DrainState drain = new DrainState();
  private final EventLoops loops = EventLoops.start(2);
  private final ServingSocket socket;

  private ProxyUnderTest(ListenerProtocol protocol, Duration requestTimeout, List<HostPort> endpoints) throws Exception {
    ClusterConfig cluster = new ClusterConfig("backend", endpoints, Duration.ofSeconds(2), requestTimeout, Duration.ofSeconds(60));
    ListenerConfig listener = new ListenerConfig("web", new HostPort("127.0.0.1", 0), protocol, "backend");
    ListenerContext context = new ListenerContext(listener, new Cluster(cluster, metrics.cluster("backend")),
        metrics.listener("web"), drain, 7, true);
    var initializer = protocol == ListenerProtocol.HTTP ? new Http1ProxyInitializer(context) : new TcpRelayInitializer(context);
    socket = ServingSocket.bind("web", listener.address(), protocol.wireName(), loops.group(), initializer, ConnectionObserver.NONE);
    socket.startAccepting();
  }

  public static ProxyUnderTest http(Duration requestTimeout, HostPort... endpoints) throws Exception {
    return new ProxyUnderTest(ListenerProtocol.HTTP, requestTimeout, List.of(endpoints));
  }

  public static ProxyUnderTest tcp(HostPort... endpoints) throws Exception {
    return new ProxyUnderTest(ListenerProtocol.TCP, Duration.ofSeconds(15), List.of(endpoints));
  }

  public InetSocketAddress address() {
    return socket.boundAddress();
  }

  public int openConnections() {
    return socket.openConnections();
  }

  /** What the drain does to every open connection of a process. */
  public void startDrain() {
    drain.set(DrainState.Mode.DRAINING);
    socket.forEachConnection(ch -> ch.pipeline().fireUserEventTriggered(DrainEvent.DRAIN_STARTED));
  }

  @Override
  public void close() {
    socket.closeListener();
    socket.closeConnections();
    loops.close();
  }
}
