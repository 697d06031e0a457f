package io.baton.sidecar.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.demo.RawHttp;
import io.baton.sidecar.demo.TcpEchoUpstream;
import io.baton.sidecar.testsupport.ProxyUnderTest;
import io.baton.sidecar.upstream.Member;
import io.baton.sidecar.upstream.MemberStatus;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class TcpRelayTest {

  /**
   * Repeated because the failure it guards against is a race: without EpollHalfCloseRepair, about
   * one run in eight lost the tail of the echo on a loaded 2-core machine (Netty 4.2 epoll drops a
   * half-closed fd from epoll, then fails its next EPOLLOUT with ENOENT).
   */
  @RepeatedTest(20)
  void bytesRelayBothWaysAndHalfCloseLetsTheRestOfTheEchoThrough() throws Exception {
    try (TcpEchoUpstream echo = TcpEchoUpstream.start(0);
        ProxyUnderTest proxy = ProxyUnderTest.tcp(new HostPort("127.0.0.1", echo.port()));
        Socket client = new Socket()) {
      client.connect(proxy.address(), 5000);
      client.setSoTimeout(30_000);
      CompletableFuture<String> echoed = CompletableFuture.supplyAsync(() -> {
        try {
          MessageDigest d = RawHttp.sha256();
          InputStream in = client.getInputStream();
          byte[] buf = new byte[65536];
          long n = 0;
          for (int r; (r = in.read(buf)) != -1; ) {
            d.update(buf, 0, r);
            n += r;
          }
          return n + " bytes " + java.util.HexFormat.of().formatHex(d.digest());
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      MessageDigest sent = RawHttp.sha256();
      Random random = new Random(1);
      byte[] chunk = new byte[64 * 1024];
      for (int i = 0; i < 64; i++) {
        random.nextBytes(chunk);
        sent.update(chunk);
        client.getOutputStream().write(chunk);
      }
      client.shutdownOutput();
      assertThat(echoed.get(30, java.util.concurrent.TimeUnit.SECONDS)).as("every byte back, in order, then EOF after our half-close")
          .isEqualTo(64 * chunk.length + " bytes " + java.util.HexFormat.of().formatHex(sent.digest()));
    }
  }

  @Test
  void refusedUpstreamClosesTheClientAndIsCounted() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (ProxyUnderTest proxy = ProxyUnderTest.tcp(new HostPort("127.0.0.1", closedPort));
        Socket client = new Socket()) {
      client.connect(proxy.address(), 5000);
      client.setSoTimeout(10_000);
      assertThat(client.getInputStream().read()).isEqualTo(-1);
      assertThat(proxy.metrics.scrape())
          .contains("baton_upstream_errors_total{cluster=\"backend\",reason=\"connect_failed\"} 1.0");
    }
  }

  @Test
  void refusedConnectTriesTheNextMemberAndTheBytesFlow() throws Exception {
    HostPort refusing;
    try (ServerSocket s = new ServerSocket(0)) {
      refusing = new HostPort("127.0.0.1", s.getLocalPort());
    }
    try (TcpEchoUpstream echo = TcpEchoUpstream.start(0);
        ProxyUnderTest proxy = ProxyUnderTest.tcp(List.of(Member.of(refusing), Member.of(new HostPort("127.0.0.1", echo.port()))));
        Socket client = new Socket()) {
      client.connect(proxy.address(), 5000);
      client.setSoTimeout(10_000);
      // No half-close before the echo is back: a client that shuts its output before the upstream
      // connection exists loses the echo even with one member (the epoll ENOENT of
      // EpollHalfCloseRepair, on the client side), which is not what this test is about.
      client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
      assertThat(new String(client.getInputStream().readNBytes(5), StandardCharsets.US_ASCII))
          .as("the first pick refused; the second member relayed").isEqualTo("hello");
      assertThat(proxy.cluster().memberStatuses()).extracting(MemberStatus::state)
          .containsExactly(MemberStatus.State.FAILED, MemberStatus.State.HEALTHY);
      assertThat(proxy.metrics.scrape())
          .contains("baton_upstream_errors_total{cluster=\"backend\",reason=\"connect_failed\"} 1.0");
    }
  }
}
