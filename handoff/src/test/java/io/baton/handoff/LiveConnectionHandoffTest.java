package io.baton.handoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.baton.handoff.os.Fds;
import io.baton.handoff.process.Handoff;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Socket;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live connections over conn.sock between two real Handoff instances, with real TCP connections on
 * loopback: what is sent arrives, in order, with its bytes, and still carries data both ways.
 */
@Timeout(60)
// Two Socket types meet here: Netty's fd-level unix.Socket (imported) and java.net.Socket.
@SuppressWarnings("InlineQualifiedName")
class LiveConnectionHandoffTest {

  private static final Duration STEP = Duration.ofSeconds(3);

  @TempDir Path tmp;
  private Path runDir;
  private Socket web;
  private final Deque<AutoCloseable> cleanup = new ArrayDeque<>();

  @BeforeEach
  void setUp() throws Exception {
    runDir = tmp.resolve("run");
    Epoll.ensureAvailability(); // loads the native library the sockets below use
    web = TcpListeners.listening();
  }

  @AfterEach
  void tearDown() throws Exception {
    while (!cleanup.isEmpty()) {
      cleanup.pop().close();
    }
    web.close();
  }

  private Handoff open(RecordingEvents events) throws HandoffException {
    Handoff handoff =
        Handoff.open(
            new HandoffSettings(runDir, STEP, STEP, "test-1.0", IncomingStepObserver.NONE), events);
    cleanup.push(handoff);
    return handoff;
  }

  private TestSource coldStart(List<CarriedCounter> counters) throws Exception {
    Handoff handoff = open(new RecordingEvents());
    assertThat(handoff.arrive()).isInstanceOf(Arrival.ColdStart.class);
    TestSource source =
        new TestSource(
            1,
            List.of(
                new PassableListener(
                    "web", "127.0.0.1:" + web.localAddress().getPort(), "http", web.intValue())));
    source.counters = counters;
    handoff.serve(source, Set.of());
    return source;
  }

  private record Successor(
      Handoff handoff,
      RecordingEvents events,
      Arrival.Takeover takeover,
      BlockingQueue<LiveConnection> arrived) {}

  private Successor successor() throws Exception {
    RecordingEvents events = new RecordingEvents();
    Handoff handoff = open(events);
    Arrival.Takeover takeover = (Arrival.Takeover) handoff.arrive();
    takeover.listeners().forEach(l -> cleanup.push(() -> Fds.closeQuietly(l.fd())));
    BlockingQueue<LiveConnection> arrived = new LinkedBlockingQueue<>();
    handoff.serve(
        new TestSource(2, List.of()),
        Set.of("web"),
        c -> {
          arrived.add(c);
          cleanup.push(() -> Fds.closeAllQuietly(c.fds()));
        });
    return new Successor(handoff, events, takeover, arrived);
  }

  /** A connected loopback TCP pair: a client socket and the fd of its accepted end. */
  private record TcpPair(java.net.Socket client, int acceptedFd) {}

  private TcpPair connect() throws Exception {
    java.net.Socket client = new java.net.Socket("127.0.0.1", web.localAddress().getPort());
    client.setSoTimeout(5000);
    cleanup.push(client);
    int fd = web.accept(new byte[26]);
    assertThat(fd).as("accept(2) on the test listener").isPositive();
    return new TcpPair(client, fd);
  }

  private static void assertCarriesBytesBothWays(int fd, java.net.Socket client) throws Exception {
    Socket ours = new Socket(fd);
    ByteBuffer out = ByteBuffer.allocateDirect(16);
    out.put("from-server".getBytes(StandardCharsets.US_ASCII)).flip();
    assertThat(ours.write(out, out.position(), out.limit())).isEqualTo(11);
    byte[] got = client.getInputStream().readNBytes(11);
    assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo("from-server");

    client.getOutputStream().write("from-client".getBytes(StandardCharsets.US_ASCII));
    ByteBuffer in = ByteBuffer.allocateDirect(16);
    int n = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (n < 11 && System.nanoTime() < deadline) {
      int r = ours.read(in, n, 16);
      n += Math.max(r, 0);
    }
    byte[] read = new byte[n];
    in.get(0, read);
    assertThat(new String(read, StandardCharsets.US_ASCII)).isEqualTo("from-client");
  }

  @Test
  void liveConnectionsSentDuringTheDrainArriveInOrderWithTheirBytesAndStillWork() throws Exception {
    TestSource old = coldStart(List.of());
    Successor next = successor();
    ConnectionSink sink = old.sink.get(5, TimeUnit.SECONDS);
    assertThat(sink.isOpen()).as("the successor offered conn.sock").isTrue();

    TcpPair first = connect();
    TcpPair second = connect();
    TcpPair upstream = connect();
    byte[] pipelined = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    sink.send(
            new LiveConnection(
                "web", ConnectionKind.HTTP1, new int[] {first.acceptedFd()}, pipelined, ""))
        .get(5, TimeUnit.SECONDS);
    sink.send(
            new LiveConnection(
                "web",
                ConnectionKind.TCP_PAIR,
                new int[] {second.acceptedFd(), upstream.acceptedFd()},
                new byte[0],
                "127.0.0.1:9000"))
        .get(5, TimeUnit.SECONDS);
    // Sent: the kernel gave the successor its own copies; ours are closed as the application would.
    Fds.close(first.acceptedFd());
    Fds.close(second.acceptedFd());
    Fds.close(upstream.acceptedFd());
    assertThat(sink.sent()).isEqualTo(2);

    LiveConnection http = next.arrived().poll(5, TimeUnit.SECONDS);
    assertThat(http).isNotNull();
    assertThat(http.listener()).isEqualTo("web");
    assertThat(http.kind()).isEqualTo(ConnectionKind.HTTP1);
    assertThat(http.unconsumed()).isEqualTo(pipelined);
    assertCarriesBytesBothWays(http.fds()[0], first.client());

    LiveConnection pair = next.arrived().poll(5, TimeUnit.SECONDS);
    assertThat(pair).isNotNull();
    assertThat(pair.kind()).isEqualTo(ConnectionKind.TCP_PAIR);
    assertThat(pair.upstreamEndpoint()).isEqualTo("127.0.0.1:9000");
    assertCarriesBytesBothWays(pair.fds()[0], second.client());
    assertCarriesBytesBothWays(pair.fds()[1], upstream.client());

    old.progress = new DrainProgress(0, 0);
    old.finishDrain(0, Duration.ofMillis(5));
    assertThat(next.events().migrationsEnded.poll(5, TimeUnit.SECONDS)).isEqualTo(2L);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> !runDir.resolve("conn.sock").toFile().exists());
  }

  @Test
  void countersTravelWithTheListenersWhenAcceptingStopsAndAtTheEndOfTheDrain() throws Exception {
    CarriedCounter atHandoff =
        new CarriedCounter(
            "baton.requests", Map.of("listener", "web", "code_class", "2xx"), 42, "answered");
    TestSource old = coldStart(List.of(atHandoff));
    CarriedCounter onceDraining =
        new CarriedCounter(
            "baton.requests", Map.of("listener", "web", "code_class", "2xx"), 45, "answered");
    old.countersOnceDraining = List.of(onceDraining);
    Successor next = successor();

    assertThat(next.takeover().counters()).containsExactly(atHandoff);
    assertThat(next.events().stoppedAcceptingCounters.poll())
        .as("delivered before serve() returned, with Draining")
        .containsExactly(onceDraining);

    CarriedCounter atEnd =
        new CarriedCounter(
            "baton.requests", Map.of("listener", "web", "code_class", "2xx"), 50, "answered");
    old.counters = List.of(atEnd);
    old.drainBegun.get(5, TimeUnit.SECONDS);
    old.finishDrain(0, Duration.ofMillis(5));

    assertThat(next.events().finalCounters.poll(5, TimeUnit.SECONDS)).containsExactly(atEnd);
  }

  @Test
  void carriedStateArrivesWithTheListenersAsTheApplicationTypedIt() throws Exception {
    // Any message type does: the library never looks inside. Two of them, to check the order.
    var first = Any.pack(StringValue.of("members of backend at revision 17"));
    var second = Any.pack(Int64Value.of(17));
    TestSource old = coldStart(List.of());
    old.carriedState = List.of(first, second);

    Successor next = successor();

    assertThat(next.takeover().carriedState()).containsExactly(first, second);
    assertThat(next.takeover().carriedState().get(0).unpack(StringValue.class).getValue())
        .isEqualTo("members of backend at revision 17");
  }

  @Test
  void connectionsTheSuccessorNeverClaimedComeBackToTheSenderWhenItDies() throws Exception {
    TestSource old = coldStart(List.of());
    RecordingEvents events = new RecordingEvents();
    Handoff handoff = open(events);
    Arrival.Takeover takeover = (Arrival.Takeover) handoff.arrive();
    takeover.listeners().forEach(l -> cleanup.push(() -> Fds.closeQuietly(l.fd())));
    BlockingQueue<OwnershipClaim> claims = new LinkedBlockingQueue<>();
    handoff.serve(
        new TestSource(2, List.of()),
        Set.of("web"),
        new ConnectionArrivals() {
          @Override
          public void arrived(LiveConnection connection) {
            throw new AssertionError("a revision-3 receiver passes the claim");
          }

          @Override
          public void arrived(LiveConnection connection, OwnershipClaim claim) {
            cleanup.push(() -> Fds.closeAllQuietly(connection.fds()));
            claims.add(claim);
          }
        });
    ConnectionSink sink = old.sink.get(5, TimeUnit.SECONDS);
    TcpPair touched = connect();
    TcpPair idle = connect();
    byte[] pipelined = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    for (TcpPair pair : List.of(touched, idle)) {
      sink.send(
              new LiveConnection(
                  "web", ConnectionKind.HTTP1, new int[] {pair.acceptedFd()}, pipelined, ""))
          .get(5, TimeUnit.SECONDS);
      Fds.close(pair.acceptedFd()); // as the application does once a send completed
    }
    OwnershipClaim first = claims.poll(5, TimeUnit.SECONDS);
    assertThat(claims.poll(5, TimeUnit.SECONDS)).as("the second arrived").isNotNull();
    first.claim();
    first.claim(); // only the first call confirms
    LiveConnection owned = old.ownedBySuccessor.poll(5, TimeUnit.SECONDS);
    assertThat(owned).as("the sender heard the confirmation").isNotNull();

    handoff.close(); // the successor dies: reconfig.sock and conn.sock close
    assertThat(old.rollBacks.poll(5, TimeUnit.SECONDS)).isNotNull();
    LiveConnection back = old.resumed.poll(5, TimeUnit.SECONDS);
    assertThat(back).as("the unclaimed connection came back").isNotNull();
    assertThat(back.unconsumed()).as("with the bytes it carried").isEqualTo(pipelined);
    assertThat(old.resumed.poll(500, TimeUnit.MILLISECONDS))
        .as("the claimed one did not come back")
        .isNull();
    assertThat(old.ownedBySuccessor).as("confirmed once").isEmpty();
    // The copy the sender kept is the same socket: it still carries bytes both ways.
    assertCarriesBytesBothWays(back.fds()[0], idle.client());
    Fds.close(back.fds()[0]);
  }

  @Test
  void aConnectionNotSentBeforeTheSuccessorDiedStaysWithTheSender() throws Exception {
    TestSource old = coldStart(List.of());
    Successor next = successor();
    ConnectionSink sink = old.sink.get(5, TimeUnit.SECONDS);

    next.handoff().close(); // the successor is gone: reconfig.sock and conn.sock close
    old.rollBacks.poll(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(() -> !sink.isOpen());

    TcpPair kept = connect();
    var sending =
        sink.send(
            new LiveConnection(
                "web", ConnectionKind.HTTP1, new int[] {kept.acceptedFd()}, new byte[0], ""));
    assertThatThrownBy(() -> sending.get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class);
    assertThat(sink.sent()).isZero();
    assertCarriesBytesBothWays(kept.acceptedFd(), kept.client());
    Fds.close(kept.acceptedFd());
  }

  @Test
  void aMalformedMovedConnectionIsClosedAndTheStreamGoesOn() throws Exception {
    TestSource old = coldStart(List.of());
    Successor next = successor();
    ConnectionSink sink = old.sink.get(5, TimeUnit.SECONDS);
    TcpPair a = connect();
    TcpPair b = connect();

    // TCP_PAIR needs two fds: the record refuses to build a wrong one, so the sender cannot send
    // it.
    assertThatThrownBy(
            () ->
                new LiveConnection(
                    "web", ConnectionKind.TCP_PAIR, new int[] {a.acceptedFd()}, new byte[0], ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected 2 for TCP_PAIR");

    sink.send(
            new LiveConnection(
                "web", ConnectionKind.HTTP1, new int[] {b.acceptedFd()}, new byte[0], ""))
        .get(5, TimeUnit.SECONDS);
    Fds.close(b.acceptedFd());
    LiveConnection arrived = next.arrived().poll(5, TimeUnit.SECONDS);
    assertThat(arrived).isNotNull();
    assertCarriesBytesBothWays(arrived.fds()[0], b.client());
    Fds.close(a.acceptedFd());
    InputStream in = a.client().getInputStream();
    assertThat(in.read())
        .as("the connection that was never sent is closed by its owner")
        .isEqualTo(-1);
  }
}
