package io.baton.sidecar.server;

import io.baton.handoff.InheritedListener;
import io.baton.sidecar.admin.AdminInitializer;
import io.baton.sidecar.admin.ClustersReport;
import io.baton.sidecar.config.BatonConfig;
import io.baton.sidecar.config.ConfigLoader;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerConfig;
import io.baton.sidecar.config.ListenerProtocol;
import io.baton.sidecar.discovery.Discoveries;
import io.baton.sidecar.drain.DrainState;
import io.baton.sidecar.http1.MovedHttp1Connection;
import io.baton.sidecar.httpserver.CleartextHttpInitializer;
import io.baton.sidecar.httpserver.TlsListenerInitializer;
import io.baton.sidecar.listener.ConnectionObserver;
import io.baton.sidecar.listener.EventLoops;
import io.baton.sidecar.listener.FdBudget;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.listener.ServingSocket;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.migration.ConnectionAdopter;
import io.baton.sidecar.migration.ConnectionResumer;
import io.baton.sidecar.tcp.MovedTcpPair;
import io.baton.sidecar.tcp.TcpRelayInitializer;
import io.baton.sidecar.tls.ServerTls;
import io.baton.sidecar.tls.SessionTickets;
import io.baton.sidecar.upstream.Cluster;
import io.netty.channel.ChannelHandler;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of the data path: for each configured listener, its context, the pipeline of
 * its protocol and its socket (inherited from the predecessor when the address is unchanged, else
 * bound fresh); the admin listener; and which protocol resumes each kind of connection the
 * predecessor moves here.
 */
final class ListenerAssembly {

  /** Logs as the server did before this class was split from it: operators filter on that name. */
  private static final Logger log = LoggerFactory.getLogger(SidecarServer.class);

  static final String ADMIN_PROTOCOL = "admin";

  private final BatonConfig config;
  private final BatonMetrics metrics;
  private final EventLoops loops;
  private final AcceptPauseLog pauses;
  private final FdBudget fds = FdBudget.ofThisProcess();

  ListenerAssembly(BatonConfig config, BatonMetrics metrics, EventLoops loops) {
    this.config = config;
    this.metrics = metrics;
    this.loops = loops;
    this.pauses = new AcceptPauseLog(config.listeners(), System::nanoTime);
  }

  /**
   * Opens every listener of the config, taking those of {@code inherited} whose address did not
   * change (their names go into {@code adopted}) and closing the rest of them.
   *
   * @param closed told when a client connection of a data listener closes
   * @param serving whether admin's {@code /ready} says ready
   */
  ListenerSet open(
      Map<String, Cluster> clusters,
      Discoveries discoveries,
      SessionTickets tickets,
      DrainState drainState,
      long generation,
      Map<String, InheritedListener> inherited,
      Set<String> adopted,
      Consumer<ServingSocket> closed,
      BooleanSupplier serving)
      throws IOException {
    ConnectionObserver counting =
        new ConnectionObserver() {
          @Override
          public void opened(ServingSocket socket) {
            metrics.listener(socket.name()).connectionOpened();
          }

          @Override
          public void adopted(ServingSocket socket) {
            metrics.listener(socket.name()).connectionAdopted();
          }

          @Override
          public void closed(ServingSocket socket) {
            metrics.listener(socket.name()).connectionClosed();
            closed.accept(socket);
          }

          @Override
          public void limitReached(ServingSocket socket, int open) {
            metrics.listener(socket.name()).connectionLimitReached();
            pauses.limitReached(socket.name(), open);
          }

          @Override
          public void shortOfFds(ServingSocket socket, int open, String budget, Throwable cause) {
            metrics.listener(socket.name()).shortOfFds(cause != null);
            pauses.shortOfFds(socket.name(), open, budget, cause);
          }

          @Override
          public void fdsFreed(ServingSocket socket, int open, String budget) {
            log.info("listener {}: accepting again ({})", socket.name(), budget);
          }
        };
    // The admin listener keeps no reserve (it must answer a scrape when the data listeners have
    // stopped for want of descriptors); a failed accept still pauses it, and says so.
    ConnectionObserver adminPauses =
        new ConnectionObserver() {
          @Override
          public void shortOfFds(ServingSocket socket, int open, String budget, Throwable cause) {
            pauses.shortOfFds(socket.name(), open, budget, cause);
          }
        };
    List<ServingSocket> data = new ArrayList<>();
    Map<String, ListenerContext> contexts = new LinkedHashMap<>();
    ServingSocket admin = null;
    try {
      for (ListenerConfig lc : config.listeners()) {
        ListenerContext ctx =
            new ListenerContext(
                lc,
                clusters.get(lc.cluster()),
                metrics.listener(lc.name()),
                drainState,
                generation,
                config.admin().servingHeader(),
                config.drain().http2GoawayDelay());
        contexts.put(lc.name(), ctx);
        if (lc.protocol() == ListenerProtocol.HTTP) {
          // Every h2 series at 0 from the start (HTTP/1.1's always are): dashboards and alerts on
          // them have data before the first HTTP/2 client, and rate() a first sample.
          metrics.listener(lc.name()).exportHttp2();
        }
        ChannelHandler initializer =
            switch (lc.protocol()) {
              case HTTP ->
                  lc.tls().isPresent()
                      // Certificate and key read now: a handoff is how they are rotated.
                      ? new TlsListenerInitializer(
                          ctx,
                          ServerTls.build(lc.name(), lc.tls().get(), tickets.ring(lc.name())),
                          metrics.tls(lc.name()))
                      : new CleartextHttpInitializer(ctx);
              case TCP -> new TcpRelayInitializer(ctx);
            };
        ServingSocket socket =
            open(
                lc.name(),
                lc.address(),
                lc.protocol().wireName(),
                inherited.remove(lc.name()),
                initializer,
                counting,
                adopted);
        data.add(socket);
        socket.acceptWithin(lc.maxConnections(), fds);
        metrics.listener(lc.name()).connectionLimit(lc.maxConnections());
      }
      AdminInitializer adminInit =
          new AdminInitializer(
              metrics, serving, new ClustersReport(List.copyOf(clusters.values()), discoveries));
      admin =
          open(
              ConfigLoader.ADMIN_LISTENER_NAME,
              config.admin().address(),
              ADMIN_PROTOCOL,
              inherited.remove(ConfigLoader.ADMIN_LISTENER_NAME),
              adminInit,
              adminPauses,
              adopted);
      admin.acceptWithin(0, FdBudget.failedAcceptsOnly());
    } catch (IOException | RuntimeException e) {
      data.forEach(ServingSocket::closeListener);
      throw e;
    }
    for (InheritedListener gone : inherited.values()) {
      log.info(
          "listener {} ({}) exists only in the previous generation's config: closed",
          gone.name(),
          gone.address());
      closeFd(gone);
    }
    inherited.clear();
    return new ListenerSet(data, contexts, admin, metrics);
  }

  private ServingSocket open(
      String name,
      HostPort address,
      String protocol,
      InheritedListener inherited,
      ChannelHandler initializer,
      ConnectionObserver observer,
      Set<String> adopted)
      throws IOException {
    if (inherited != null && inherited.address().equals(address.toString())) {
      ServingSocket s =
          ServingSocket.adopt(
              name, address, protocol, inherited.fd(), loops.group(), initializer, observer);
      adopted.add(name);
      log.info("listener {} ({}, {}) inherited as fd {}", name, address, protocol, inherited.fd());
      return s;
    }
    if (inherited != null) {
      log.info(
          "listener {} moved from {} to {}: closing the inherited socket, binding fresh",
          name,
          inherited.address(),
          address);
      closeFd(inherited);
    }
    ServingSocket s =
        ServingSocket.bind(name, address, protocol, loops.group(), initializer, observer);
    log.info("listener {} ({}, {}) bound fresh at {}", name, address, protocol, s.boundAddress());
    return s;
  }

  /** Serves the connections the predecessor moves here, each kind by its own protocol. */
  static ConnectionAdopter connectionAdopter(ListenerSet listeners, BatonMetrics metrics) {
    Map<String, ServingSocket> sockets = new LinkedHashMap<>();
    Map<String, String> protocols = new LinkedHashMap<>();
    for (ServingSocket s : listeners.data()) {
      sockets.put(s.name(), s);
      protocols.put(s.name(), s.protocol());
    }
    List<ConnectionResumer> resumers =
        List.of(
            new MovedHttp1Connection(sockets, listeners.contexts()),
            new MovedTcpPair(sockets, listeners.contexts()));
    return new ConnectionAdopter(protocols, resumers, metrics);
  }

  /** Closes a listening fd this generation received and does not serve. */
  static void closeFd(InheritedListener l) {
    try {
      new FileDescriptor(l.fd()).close();
    } catch (IOException e) {
      log.warn("closing inherited fd {} of listener {} failed: {}", l.fd(), l.name(), e.toString());
    }
  }
}
