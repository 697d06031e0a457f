package io.baton.testkit.load;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.testkit.client.RawH2Connection;
import io.baton.testkit.client.RawH2Connection.Frame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link H2LoadClient} against a fake HTTP/2 server written frame by frame: its first connection
 * serves two streams, then sends GOAWAY naming the second as the last, while more streams are in
 * flight. Those are provably unprocessed: the client must send them again (same id) on a new
 * connection and count them apart, never as failures.
 */
@Timeout(30)
class H2LoadClientGoawayTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final ServerSocket server;
  private final Map<String, Integer> processed = new ConcurrentHashMap<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final List<Throwable> serverErrors = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  H2LoadClientGoawayTest() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor = new Thread(this::acceptLoop, "fake-h2-server");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  @AfterEach
  void close() throws IOException {
    server.close();
    assertThat(serverErrors).as("errors on the fake server's threads").isEmpty();
  }

  @Test
  void streamsAboveTheGoawayLastStreamIdAreSentAgainNotFailed() throws Exception {
    H2LoadClient load =
        H2LoadClient.builder("127.0.0.1", server.getLocalPort())
            .connections(1)
            .streams(4)
            .maxRequests(12)
            .build()
            .start();
    H2LoadResult r = load.awaitResult(Duration.ofSeconds(20));
    assertThat(r.finished()).as("%s", r).isTrue();
    assertThat(r.failed()).as("%s", r).isZero();
    assertThat(r.refusedAboveGoaway())
        .as("streams 5 and 7 at least were above last-stream-id 3: %s", r)
        .isGreaterThanOrEqualTo(2);
    assertThat(r.completed()).isEqualTo(12);
    assertThat(r.connectionsOpened())
        .as("a new connection after the GOAWAY")
        .isGreaterThanOrEqualTo(2);
    assertThat(processed.keySet()).isEqualTo(new HashSet<>(load.idsSent()));
    assertThat(processed.values()).as("each id processed once").allMatch(n -> n == 1);
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        boolean first = connections.incrementAndGet() == 1;
        Thread t = new Thread(() -> serve(s, first), "fake-h2-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  /**
   * First connection: once streams 1-7 are open, serve 1 and 3, then GOAWAY(3); others: serve all.
   */
  private void serve(Socket s, boolean first) {
    try (RawH2Connection c = RawH2Connection.accepted(s)) {
      c.readPreface(WAIT);
      c.sendSettings(Map.of());
      List<Frame> open = new ArrayList<>();
      boolean goneAway = false;
      while (true) {
        Frame f;
        try {
          f = c.readFrame(WAIT);
        } catch (UncheckedIOException eof) {
          return; // the client closed the connection
        }
        if (f == null) {
          return;
        }
        if (f.type() == RawH2Connection.SETTINGS && (f.flags() & RawH2Connection.FLAG_ACK) == 0) {
          c.sendFrame(RawH2Connection.SETTINGS, RawH2Connection.FLAG_ACK, 0, new byte[0]);
        }
        if (f.type() != RawH2Connection.HEADERS || goneAway) {
          continue; // after GOAWAY(3) every new stream is above it: ignored, never processed (RFC
          // 9113 §6.8)
        }
        if (!first) {
          answer(c, f);
          continue;
        }
        open.add(f);
        if (open.size() == 4) {
          for (Frame r : open) {
            if (r.streamId() <= 3) {
              answer(c, r);
            }
          }
          c.sendFrame(
              RawH2Connection.GOAWAY, 0, 0, ByteBuffer.allocate(8).putInt(3).putInt(0).array());
          goneAway = true;
        }
      }
    } catch (RuntimeException e) {
      serverErrors.add(e);
    }
  }

  private void answer(RawH2Connection c, Frame request) {
    String id = request.headers().get("x-request-id").toString();
    processed.merge(id, 1, Integer::sum);
    c.sendHeaders(request.streamId(), new DefaultHttp2Headers().status("200"), true);
  }
}
