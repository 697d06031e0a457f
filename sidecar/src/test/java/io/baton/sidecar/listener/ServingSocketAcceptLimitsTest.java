package io.baton.sidecar.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.baton.sidecar.config.HostPort;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A listener's connection limit and file descriptor reserve, on real sockets: the kernel queue
 * holds who is over them.
 */
@Timeout(60)
class ServingSocketAcceptLimitsTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  private final EventLoopGroup loops =
      new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
  private final List<Socket> clients = new ArrayList<>();
  private final List<String> limitEvents = new CopyOnWriteArrayList<>();
  private final AtomicInteger served = new AtomicInteger();
  private final List<Boolean> nagleOff = new CopyOnWriteArrayList<>();
  private ServingSocket socket;

  @AfterEach
  void close() throws IOException {
    for (Socket c : clients) {
      c.close();
    }
    if (socket != null) {
      socket.closeConnections();
      socket.closeListener();
    }
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void clientsOverTheLimitWaitInTheQueueAndAreServedWhenOneCloses() throws Exception {
    socket = echoListener(2);
    socket.startAccepting();

    Socket first = connectAndEcho();
    connectAndEcho();
    Socket third = connect();
    third.getOutputStream().write('x');

    third.setSoTimeout(300);
    assertThatThrownBy(() -> third.getInputStream().read())
        .as("the third client is not served while two are open")
        .isInstanceOf(SocketTimeoutException.class);
    assertThat(socket.openConnections()).isEqualTo(2);
    assertThat(limitEvents).containsExactly("reached 2");

    first.close();
    third.setSoTimeout((int) WAIT.toMillis());
    assertThat(third.getInputStream().read()).isEqualTo('x');
    assertThat(limitEvents).containsExactly("reached 2", "lifted 1", "reached 2");
    assertThat(served.get()).isEqualTo(3);
  }

  @Test
  void stoppingAndStartingKeepsTheLimit() throws Exception {
    socket = echoListener(1);
    socket.startAccepting();
    connectAndEcho();
    socket.stopAccepting();
    socket.startAccepting();

    Socket second = connect();
    second.getOutputStream().write('y');
    second.setSoTimeout(300);
    assertThatThrownBy(() -> second.getInputStream().read())
        .isInstanceOf(SocketTimeoutException.class);
    assertThat(socket.openConnections()).isEqualTo(1);
  }

  @Test
  void noLimitAcceptsEveryone() throws Exception {
    socket = echoListener(0);
    socket.startAccepting();
    for (int i = 0; i < 20; i++) {
      connectAndEcho();
    }
    await().atMost(WAIT).until(() -> socket.openConnections() == 20);
    assertThat(limitEvents).isEmpty();
  }

  @Test
  void acceptedConnectionsHaveNagleOff() throws Exception {
    socket = echoListener(0);
    socket.startAccepting();
    connectAndEcho();

    assertThat(nagleOff).containsExactly(true);
  }

  @Test
  void theLimitIsSetBeforeAcceptingStarts() throws Exception {
    socket = echoListener(0);
    socket.startAccepting();

    assertThatThrownBy(() -> socket.acceptWithin(5, FdBudget.failedAcceptsOnly()))
        .hasMessageContaining("accept limits are set before accepting starts");
  }

  @Test
  void shortOfDescriptorsTheListenerPausesAndResumesWhenSomeAreFreed() throws Exception {
    // A limit of 40 keeps 16 in reserve; this JVM already has more than 23 descriptors open, so
    // the first accept leaves less than the reserve.
    AtomicLong openFds = new AtomicLong(20);
    socket = echoListener(0, new FdBudget(40, openFds::get));
    socket.startAccepting();
    openFds.set(30);
    connectAndEcho();
    assertThat(limitEvents).hasSize(1).first().asString().startsWith("short of fds 1");

    Socket waiting = connect();
    waiting.getOutputStream().write('w');
    waiting.setSoTimeout(300);
    assertThatThrownBy(() -> waiting.getInputStream().read())
        .as("not accepted while the reserve is not free")
        .isInstanceOf(SocketTimeoutException.class);

    openFds.set(10);
    waiting.setSoTimeout((int) WAIT.toMillis());
    assertThat(waiting.getInputStream().read()).isEqualTo('w');
    assertThat(limitEvents.get(1)).startsWith("fds freed 1");
  }

  @Test
  void startingShortOfDescriptorsAcceptsNothingUntilSomeAreFreed() throws Exception {
    AtomicLong openFds = new AtomicLong(1000);
    socket = echoListener(0, new FdBudget(40, openFds::get));
    socket.startAccepting();

    Socket waiting = connect();
    waiting.getOutputStream().write('s');
    waiting.setSoTimeout(300);
    assertThatThrownBy(() -> waiting.getInputStream().read())
        .isInstanceOf(SocketTimeoutException.class);
    assertThat(socket.openConnections()).isZero();

    openFds.set(0);
    waiting.setSoTimeout((int) WAIT.toMillis());
    assertThat(waiting.getInputStream().read()).isEqualTo('s');
  }

  private ServingSocket echoListener(int limit) throws IOException {
    return echoListener(limit, FdBudget.failedAcceptsOnly());
  }

  private ServingSocket echoListener(int limit, FdBudget fds) throws IOException {
    ServingSocket s =
        ServingSocket.bind(
            "web",
            HostPort.parse("127.0.0.1:0"),
            "tcp",
            loops,
            new Echo(),
            new ConnectionObserver() {
              @Override
              public void limitReached(ServingSocket socket, int open) {
                limitEvents.add("reached " + open);
              }

              @Override
              public void limitLifted(ServingSocket socket, int open) {
                limitEvents.add("lifted " + open);
              }

              @Override
              public void shortOfFds(
                  ServingSocket socket, int open, String budget, Throwable cause) {
                limitEvents.add("short of fds " + open + ": " + budget);
              }

              @Override
              public void fdsFreed(ServingSocket socket, int open, String budget) {
                limitEvents.add("fds freed " + open + ": " + budget);
              }
            });
    s.acceptWithin(limit, fds);
    return s;
  }

  private Socket connect() throws IOException {
    Socket c = new Socket("127.0.0.1", socket.boundAddress().getPort());
    clients.add(c);
    return c;
  }

  private Socket connectAndEcho() throws IOException {
    Socket c = connect();
    c.setSoTimeout((int) WAIT.toMillis());
    c.getOutputStream().write('e');
    assertThat(c.getInputStream().read()).isEqualTo('e');
    return c;
  }

  @ChannelHandler.Sharable
  private final class Echo extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      served.incrementAndGet();
      nagleOff.add(ctx.channel().config().getOption(ChannelOption.TCP_NODELAY));
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ctx.writeAndFlush((ByteBuf) msg);
    }
  }
}
