package io.baton.sidecar.tcp;

import io.baton.handoff.ConnectionKind;
import io.baton.handoff.LiveConnection;
import io.baton.handoff.OwnershipClaim;
import io.baton.handoff.process.FileDescriptors;
import io.baton.sidecar.config.ListenerProtocol;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.listener.ListenerResumer;
import io.baton.sidecar.listener.ServingSocket;
import io.baton.sidecar.migration.MovableKind;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollSocketChannel;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resumes, in the successor, a TCP relay the predecessor moved here: the client's socket and the
 * upstream's, both connected, with whatever the peers sent meanwhile waiting in their kernel
 * buffers. The client and the upstream see the same connection throughout.
 */
public final class MovedTcpPair extends ListenerResumer {

  private static final Logger log = LoggerFactory.getLogger(MovedTcpPair.class);

  /**
   * A TCP relay's two connections, nothing buffered in either direction, served by {@code tcp}
   * listeners.
   */
  public static final MovableKind KIND =
      new MovableKind(
          ConnectionKind.TCP_PAIR, ListenerProtocol.TCP.wireName(), "tcp", "a TCP connection pair");

  /**
   * @param sockets and {@code contexts}: this process's data listeners, by name
   */
  public MovedTcpPair(Map<String, ServingSocket> sockets, Map<String, ListenerContext> contexts) {
    super(KIND, sockets, contexts);
  }

  @Override
  protected void resume(
      LiveConnection connection,
      OwnershipClaim claim,
      ServingSocket socket,
      ListenerContext context) {
    int[] fds = connection.fds();
    resume(socket, context, claim, fds[0], fds[1], connection.upstreamEndpoint());
  }

  /**
   * Relays between {@code clientFd} and {@code upstreamFd} on one of {@code socket}'s event loops,
   * the client counted as {@code socket}'s connection. Takes ownership of both fds.
   */
  private static void resume(
      ServingSocket socket,
      ListenerContext context,
      OwnershipClaim claim,
      int clientFd,
      int upstreamFd,
      String upstreamEndpoint) {
    EventLoop loop = socket.nextEventLoop();
    loop.execute(
        () -> {
          EpollSocketChannel client;
          EpollSocketChannel upstream;
          try {
            client = new EpollSocketChannel(clientFd);
            upstream = new EpollSocketChannel(upstreamFd);
          } catch (RuntimeException e) {
            log.warn(
                "listener {}: a tcp connection moved from the predecessor is unusable (fds {} and"
                    + " {}): {}",
                context.name(),
                clientFd,
                upstreamFd,
                e.toString());
            FileDescriptors.closeAllQuietly(clientFd, upstreamFd);
            return;
          }
          // Either side's first read, EOF or close changes the pair: the first claims it.
          ServingSocket.confirmOwnership(client, claim);
          ServingSocket.confirmOwnership(upstream, claim);
          client.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
          upstream.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
          // The upstream reads only once the client can be written to, i.e. is registered too.
          upstream.config().setAutoRead(false);
          TcpRelay relay = new TcpRelay(context, client, upstream, upstreamEndpoint);
          upstream.pipeline().addLast(relay.upstreamSide());
          loop.register(upstream)
              .addListener(
                  u -> {
                    if (!u.isSuccess()) {
                      giveUp(context, client, upstream, u.cause());
                      return;
                    }
                    socket
                        .adoptChannel(client, loop, relay.clientSide())
                        .addListener(
                            c -> {
                              if (!c.isSuccess()) {
                                giveUp(context, client, upstream, c.cause());
                                return;
                              }
                              upstream.config().setAutoRead(true);
                            });
                  });
        });
  }

  private static void giveUp(
      ListenerContext context,
      EpollSocketChannel client,
      EpollSocketChannel upstream,
      Throwable cause) {
    log.warn(
        "listener {}: a tcp connection moved from the predecessor could not be registered: {}",
        context.name(),
        cause.toString());
    client.unsafe().closeForcibly();
    upstream.unsafe().closeForcibly();
  }
}
