package io.baton.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.baton.handoff.ConnectionSink;
import io.baton.handoff.LiveConnection;
import io.baton.proto.tls.v1.ListenerTicketKeys;
import io.baton.proto.tls.v1.SessionTicketKeys;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerTlsConfig;
import io.baton.sidecar.migration.ConnectionMover;
import io.baton.sidecar.testsupport.OpensslClient;
import io.baton.sidecar.testsupport.ProxyUnderTest;
import io.baton.sidecar.testsupport.TestCertificates;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.client.TlsClient;
import io.baton.testkit.upstream.TestUpstream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** A TLS listener of the real data plane: OpenSSL, ALPN, handshake failures, resumption, drain. */
@Timeout(60)
class TlsListenerTest {

  @TempDir Path dir;

  private final TestUpstream upstream = TestUpstream.start(0);
  private ProxyUnderTest proxy;
  private TestCertificates.Pair cert;
  private ListenerTlsConfig tls;

  @BeforeEach
  void certificate() {
    cert = TestCertificates.selfSigned(dir, "web", "localhost");
    tls = new ListenerTlsConfig(cert.certificate(), cert.privateKey());
  }

  @AfterEach
  void cleanUp() {
    if (proxy != null) {
      proxy.close();
    }
    upstream.close();
  }

  private HostPort upstreamAddress() {
    return new HostPort("127.0.0.1", upstream.port());
  }

  private static SessionTickets generation(List<Any> carried) {
    return SessionTickets.start(carried, List.of("web"), new SecureRandom());
  }

  private String scrape() {
    return proxy.metrics.scrape();
  }

  @Test
  void alpnPrefersH2AndFallsBackToHttp11() throws Exception {
    proxy =
        ProxyUnderTest.https(tls, List.of(generation(List.of()).ring("web")), upstreamAddress());
    int port = proxy.address().getPort();

    // s_client speaks HTTP/1.1 text: on h2 only the ALPN answer is of interest.
    OpensslClient.Result both =
        OpensslClient.get(port, "/load/alpn-both", null, null, "h2,http/1.1");
    assertThat(both.alpn()).as(both.output()).isEqualTo("h2");

    OpensslClient.Result http11 =
        OpensslClient.get(port, "/load/alpn-http11", null, null, "http/1.1");
    assertThat(http11.alpn()).as(http11.output()).isEqualTo("http/1.1");
    assertThat(http11.statusLine()).startsWith("HTTP/1.1 200");

    OpensslClient.Result none = OpensslClient.get(port, "/load/alpn-none", null, null, null);
    assertThat(none.alpn()).as("no ALPN offered: HTTP/1.1").isNull();
    assertThat(none.statusLine()).startsWith("HTTP/1.1 200");

    // Nothing in common: no ALPN answer and HTTP/1.1, not a failed handshake.
    OpensslClient.Result other = OpensslClient.get(port, "/load/alpn-other", null, null, "spdy/3");
    assertThat(other.alpn()).as(other.output()).isNull();
    assertThat(other.statusLine()).startsWith("HTTP/1.1 200");

    assertThat(upstream.idCounts()).containsOnlyKeys("alpn-http11", "alpn-none", "alpn-other");
    assertThat(scrape())
        .contains("baton_tls_handshakes_total{listener=\"web\",result=\"ok\"} 4.0")
        .contains("baton_tls_handshakes_total{listener=\"web\",result=\"failed\"} 0.0");
  }

  @Test
  void plaintextAndGarbageFailTheirOwnHandshakeOnlyAreCountedAndNameThePeer() throws Exception {
    proxy =
        ProxyUnderTest.https(tls, List.of(generation(List.of()).ring("web")), upstreamAddress());
    Logger logger = (Logger) LoggerFactory.getLogger(TlsHandshakeObserver.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    SSLContext client = TlsClient.trusting(cert.certificate());
    try (RawHttp good =
        new RawHttp(TlsClient.connect(client, proxy.address(), "localhost"), 16 * 1024)) {
      good.send("GET /load/before HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(good.read().status()).isEqualTo(200);

      try (RawHttp plaintext = new RawHttp(proxy.address())) {
        plaintext.send("GET /load/plain HTTP/1.1\r\nHost: t\r\n\r\n");
        assertThat(plaintext.awaitEof())
            .as("a plaintext request on a TLS listener: closed, no answer")
            .isTrue();
      }
      try (RawHttp garbage = new RawHttp(proxy.address())) {
        garbage.send(new byte[] {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5, 0x17, 0x17});
        assertThat(endsAfterAnAlert(garbage))
            .as("a broken ClientHello: a TLS alert, then closed")
            .isTrue();
      }

      good.send("GET /load/after HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(good.read().status())
          .as("the TLS client next to them is not disturbed")
          .isEqualTo(200);
    } finally {
      logger.detachAppender(logs);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(scrape())
                    .contains(
                        "baton_tls_handshakes_total{listener=\"web\",result=\"failed\"} 2.0"));
    List<String> lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith("listener web: TLS handshake with /127.0.0.1:")
                    .endsWith("failed: not a TLS record (a plaintext client, or garbage)"));
    assertThat(lines)
        .as("the client's bytes are never logged")
        .noneMatch(l -> l.contains("474554")); // "GET" in hex
    assertThat(upstream.idCounts()).containsOnlyKeys("before", "after");
  }

  /** Reads what the server sends (a TLS alert of a few bytes) up to its EOF. */
  private static boolean endsAfterAnAlert(RawHttp connection) throws Exception {
    for (int i = 0; i < 64; i++) {
      if (connection.awaitEof()) {
        return true;
      }
    }
    return false;
  }

  @Test
  void ticketKeysCarriedToTheNextGenerationResumeTheSessionThere() throws Exception {
    SessionTickets first = generation(List.of());
    // Through bytes, as the handoff carries it.
    List<Any> carried = new ArrayList<>();
    for (Any any : first.carriedState()) {
      carried.add(Any.parseFrom(any.toByteArray()));
    }
    SessionTickets second = generation(carried);
    assertThat(second.ring("web").size())
        .as("its own key first, then the predecessor's")
        .isEqualTo(2);
    proxy =
        ProxyUnderTest.https(
            tls, List.of(first.ring("web"), second.ring("web")), upstreamAddress());
    int port = proxy.address().getPort();
    Path session = dir.resolve("session.pem");

    OpensslClient.Result onFirst = OpensslClient.get(port, "/load/gen1", null, session, null);
    assertThat(onFirst.fresh()).as(onFirst.output()).isTrue();
    OpensslClient.Result onSecond = OpensslClient.get(port, "/load/gen2", session, null, null);
    assertThat(onSecond.reused())
        .as("the ticket of generation 1 resumes on generation 2: %s", onSecond.output())
        .isTrue();
    assertThat(onSecond.statusLine()).startsWith("HTTP/1.1 200");
    assertThat(scrape()).contains("baton_tls_resumptions_total{listener=\"web\"} 1.0");
  }

  @Test
  void withoutTheCarriedKeysTheNextGenerationCannotResume() throws Exception {
    // What a successor without SessionTickets' carried state would do: keys of its own only.
    proxy =
        ProxyUnderTest.https(
            tls,
            List.of(generation(List.of()).ring("web"), generation(List.of()).ring("web")),
            upstreamAddress());
    int port = proxy.address().getPort();
    Path session = dir.resolve("session.pem");
    assertThat(OpensslClient.get(port, "/load/gen1", null, session, null).fresh()).isTrue();
    OpensslClient.Result onSecond = OpensslClient.get(port, "/load/gen2", session, null, null);
    assertThat(onSecond.fresh()).as(onSecond.output()).isTrue();
    assertThat(scrape()).contains("baton_tls_resumptions_total{listener=\"web\"} 0.0");
  }

  @Test
  void aTlsConnectionIsDrainedWithConnectionCloseNeverMoved() throws Exception {
    proxy =
        ProxyUnderTest.https(tls, List.of(generation(List.of()).ring("web")), upstreamAddress());
    RecordingSink successor = new RecordingSink();
    SSLContext client = TlsClient.trusting(cert.certificate());
    try (RawHttp http =
        new RawHttp(TlsClient.connect(client, proxy.address(), "localhost"), 16 * 1024)) {
      http.send("GET /load/ka-1 HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(http.read().closes()).isFalse();

      proxy.drain.setMover(new ConnectionMover(successor));
      proxy.startDrain();

      http.send("GET /load/ka-2 HTTP/1.1\r\nHost: t\r\n\r\n");
      RawHttp.Response last = http.read();
      assertThat(last.status()).isEqualTo(200);
      assertThat(last.closes()).as("a draining TLS connection's next answer says close").isTrue();
      assertThat(http.awaitEof()).as("then the connection ends, close_notify and FIN").isTrue();
    }
    assertThat(successor.sends.get())
        .as("a TLS connection is never offered to the successor, though it takes connections")
        .isZero();
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.openConnections() == 0);
  }

  /** A successor that takes connections; counts what it was offered. */
  private static final class RecordingSink implements ConnectionSink {
    final AtomicLong sends = new AtomicLong();

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public CompletableFuture<Void> send(LiveConnection connection) {
      sends.incrementAndGet();
      return CompletableFuture.failedFuture(new IllegalStateException("a test sink keeps nothing"));
    }

    @Override
    public long sent() {
      return 0;
    }
  }

  @Test
  void aKeyRingKeepsTheNewestPredecessorKeysAndNeverShowsThem() {
    SecureRandom random = new SecureRandom();
    TicketKeyRing g1 = TicketKeyRing.fresh(random);
    TicketKeyRing g2 = TicketKeyRing.succeeding(g1.keys(), random);
    TicketKeyRing g3 = TicketKeyRing.succeeding(g2.keys(), random);
    TicketKeyRing g4 = TicketKeyRing.succeeding(g3.keys(), random);
    assertThat(g4.size()).isEqualTo(1 + TicketKeyRing.KEPT_FROM_PREDECESSORS);
    assertThat(g4.keys().get(1)).isEqualTo(g3.keys().get(0));
    assertThat(g4.keys().get(2)).isEqualTo(g2.keys().get(0));
    assertThat(g4.keys()).noneMatch(k -> Arrays.equals(k, g1.keys().get(0)));
    assertThat(g4.keys()).allMatch(k -> k.length == TicketKeyRing.KEY_SIZE);
    assertThat(g4.toString()).isEqualTo("TicketKeyRing[3 key(s)]");
    assertThat(SessionTickets.start(List.of(), List.of("web"), random).toString())
        .doesNotContain("[B")
        .contains("1 key(s)");

    // A carried key of the wrong size: fresh keys (clients do one full handshake), never a failed
    // start.
    Any broken =
        Any.pack(
            SessionTicketKeys.newBuilder()
                .addListeners(
                    ListenerTicketKeys.newBuilder()
                        .setListener("web")
                        .addKeys(ByteString.copyFrom("short", StandardCharsets.US_ASCII)))
                .build());
    assertThat(SessionTickets.start(List.of(broken), List.of("web"), random).ring("web").size())
        .isEqualTo(1);
  }
}
