package io.baton.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.sidecar.config.ClusterTlsConfig;
import io.baton.sidecar.config.UpstreamProtocol;
import io.baton.sidecar.http2.H2TestClient;
import io.baton.sidecar.testsupport.ProxyUnderTest;
import io.baton.sidecar.testsupport.TestCertificates;
import io.baton.sidecar.upstream.MemberStatus;
import io.baton.testkit.client.RawHttp;
import io.netty.handler.codec.http2.Http2Headers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster with {@code protocol: h2}: HTTP/2 to members over TLS with ALPN {@code h2}, members
 * with a self-signed certificate made for the test. Streams share the pooled TLS connection as they
 * share an h2c one; a failed handshake, or a member that does not select {@code h2}, is a failed
 * member: the next member takes the stream, and without one a gRPC client gets UNAVAILABLE and a
 * plain client 502.
 */
@Timeout(60)
class H2UpstreamTlsTest {

  @TempDir Path dir;

  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private <T extends AutoCloseable> T opened(T resource) {
    open.add(resource);
    return resource;
  }

  private TestCertificates.Pair cert() {
    return TestCertificates.selfSigned(dir, "upstream", "localhost");
  }

  private static ClusterTlsConfig trusting(TestCertificates.Pair cert) {
    return new ClusterTlsConfig(Optional.of(cert.certificate()), Optional.empty(), false);
  }

  private static Http2Headers grpcHeaders() {
    return H2TestClient.post("/pkg.Service/Method")
        .set("content-type", "application/grpc")
        .set("te", "trailers");
  }

  @Test
  void streamsOfAnH2cClientShareOneTlsConnectionToTheMember() throws Exception {
    TestCertificates.Pair cert = cert();
    H2TlsUpstream upstream = opened(new H2TlsUpstream(cert, "h2"));
    ProxyUnderTest proxy =
        opened(ProxyUnderTest.httpToTls(UpstreamProtocol.H2, trusting(cert), upstream.endpoint()));
    H2TestClient client = opened(new H2TestClient(proxy.address()));

    List<CompletableFuture<H2TestClient.Response>> answers = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      answers.add(client.get("/s" + i, null));
    }
    for (int i = 0; i < 5; i++) {
      H2TestClient.Response r = answers.get(i).get(10, TimeUnit.SECONDS);
      assertThat(r.status()).isEqualTo("200");
      assertThat(r.bodyText()).isEqualTo("/s" + i + " on connection 1");
    }
    H2TestClient.Response grpc =
        client.send(grpcHeaders(), List.of("\0\0\0\0\0"), null).get(10, TimeUnit.SECONDS);
    assertThat(grpc.status()).isEqualTo("200");
    assertThat(grpc.bodyText()).isEqualTo("/pkg.Service/Method on connection 1");
    assertThat(String.valueOf(grpc.trailers().get("grpc-status"))).isEqualTo("0");
    assertThat(upstream.streamsReceived()).isEqualTo(6);
    assertThat(upstream.connectionsAccepted())
        .as("one multiplexed TLS connection upstream")
        .isEqualTo(1);
  }

  @Test
  void anHttp11ClientIsServedOverAnH2Stream() throws Exception {
    TestCertificates.Pair cert = cert();
    H2TlsUpstream upstream = opened(new H2TlsUpstream(cert, "h2"));
    ProxyUnderTest proxy =
        opened(ProxyUnderTest.httpToTls(UpstreamProtocol.H2, trusting(cert), upstream.endpoint()));
    try (RawHttp http = new RawHttp(proxy.address())) {
      http.send("GET /one HTTP/1.1\r\nHost: t\r\n\r\n");
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.bodyText()).isEqualTo("/one on connection 1");
    }
  }

  @Test
  void anUntrustedMemberIsAFailedMemberAndUnavailableOr502() throws Exception {
    H2TlsUpstream upstream = opened(new H2TlsUpstream(cert(), "h2"));
    // The JVM's trust store does not know a self-signed certificate.
    ProxyUnderTest proxy =
        opened(
            ProxyUnderTest.httpToTls(
                UpstreamProtocol.H2, ClusterTlsConfig.verifyingDefaults(), upstream.endpoint()));
    H2TestClient client = opened(new H2TestClient(proxy.address()));

    H2TestClient.Response grpc =
        client.send(grpcHeaders(), List.of("\0\0\0\0\0"), null).get(10, TimeUnit.SECONDS);
    assertThat(grpc.resetCode()).as("never a dropped stream").isEqualTo(-1);
    assertThat(String.valueOf(grpc.headers().get("grpc-status"))).as("UNAVAILABLE").isEqualTo("14");
    assertThat(String.valueOf(grpc.headers().get("grpc-message")))
        .contains("TLS handshake with " + upstream.endpoint() + " failed");
    H2TestClient.Response plain = client.get("/plain", null).get(10, TimeUnit.SECONDS);
    assertThat(plain.status()).isEqualTo("502");

    assertThat(upstream.streamsReceived())
        .as("nothing of the requests reached the member")
        .isZero();
    assertThat(proxy.metrics.scrape())
        .contains(
            "baton_upstream_errors_total{cluster=\"backend\",reason=\"tls_handshake_failed\"} 2.0");
    MemberStatus status = proxy.cluster().memberStatuses().get(0);
    assertThat(status.failures())
        .as("counted against the member, as a refused connect is")
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void aMemberThatDoesNotSelectH2IsAFailedHandshake() throws Exception {
    TestCertificates.Pair cert = cert();
    H2TlsUpstream http11Only = opened(new H2TlsUpstream(cert, "http/1.1"));
    H2TlsUpstream noAlpn = opened(new H2TlsUpstream(cert));
    for (H2TlsUpstream upstream : List.of(http11Only, noAlpn)) {
      try (ProxyUnderTest proxy =
              ProxyUnderTest.httpToTls(UpstreamProtocol.H2, trusting(cert), upstream.endpoint());
          H2TestClient client = new H2TestClient(proxy.address())) {
        H2TestClient.Response r = client.get("/x", null).get(10, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo("502");
        assertThat(proxy.metrics.scrape())
            .contains(
                "baton_upstream_errors_total{cluster=\"backend\",reason=\"tls_handshake_failed\"}"
                    + " 1.0");
      }
      assertThat(upstream.streamsReceived()).isZero();
    }
  }

  @Test
  void theNextMemberTakesTheStreamWhenAHandshakeFails() throws Exception {
    TestCertificates.Pair cert = cert();
    H2TlsUpstream noAlpn = opened(new H2TlsUpstream(cert));
    H2TlsUpstream good = opened(new H2TlsUpstream(cert, "h2"));
    ProxyUnderTest proxy =
        opened(
            ProxyUnderTest.httpToTls(
                UpstreamProtocol.H2, trusting(cert), noAlpn.endpoint(), good.endpoint()));
    H2TestClient client = opened(new H2TestClient(proxy.address()));
    // Whichever member the balancer picks first, one of the two requests meets the bad member.
    for (int i = 0; i < 2; i++) {
      H2TestClient.Response r =
          client.send(grpcHeaders(), List.of("\0\0\0\0\0"), null).get(10, TimeUnit.SECONDS);
      assertThat(
              String.valueOf(
                  r.trailers() == null
                      ? r.headers().get("grpc-status")
                      : r.trailers().get("grpc-status")))
          .isEqualTo("0");
    }
    assertThat(good.streamsReceived()).isEqualTo(2);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(proxy.metrics.scrape())
                    .contains(
                        "baton_upstream_errors_total{cluster=\"backend\",reason=\"tls_handshake_failed\"}"
                            + " 1.0"));
    assertThat(proxy.cluster().memberStatuses())
        .anySatisfy(m -> assertThat(m.failures()).isGreaterThanOrEqualTo(1));
  }
}
