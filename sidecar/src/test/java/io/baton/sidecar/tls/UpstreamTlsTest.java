package io.baton.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.sidecar.config.ClusterTlsConfig;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.testsupport.ProxyUnderTest;
import io.baton.sidecar.testsupport.TestCertificates;
import io.baton.sidecar.upstream.MemberStatus;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.upstream.TestUpstream;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster with {@code tls}: plain-text clients, an HTTPS upstream with a self-signed certificate
 * made for the test. A failed upstream handshake is a failed member and a 502, as a refused
 * connect.
 */
@Timeout(60)
class UpstreamTlsTest {

  @TempDir Path dir;

  private TestUpstream upstream;
  private ProxyUnderTest proxy;

  @AfterEach
  void cleanUp() {
    if (proxy != null) {
      proxy.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  private TestCertificates.Pair httpsUpstream() throws Exception {
    TestCertificates.Pair cert = TestCertificates.selfSigned(dir, "upstream", "localhost");
    SslContext server =
        SslContextBuilder.forServer(cert.certificate().toFile(), cert.privateKey().toFile())
            .build();
    upstream = TestUpstream.startTls(0, server);
    return cert;
  }

  private HostPort member() {
    return new HostPort("127.0.0.1", upstream.port());
  }

  private RawHttp.Response get(String path) throws Exception {
    try (RawHttp http = new RawHttp(proxy.address())) {
      http.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
      return http.read();
    }
  }

  @Test
  void aTrustedCertificateNamingTheMemberServesAndTheConnectionIsPooled() throws Exception {
    TestCertificates.Pair cert = httpsUpstream();
    // The member is 127.0.0.1: the certificate's IP entry is what is checked.
    proxy =
        ProxyUnderTest.httpToTls(
            new ClusterTlsConfig(Optional.of(cert.certificate()), Optional.empty(), false),
            member());
    try (RawHttp http = new RawHttp(proxy.address())) {
      for (int i = 0; i < 3; i++) {
        http.send("GET /load/tls-" + i + " HTTP/1.1\r\nHost: t\r\n\r\n");
        assertThat(http.read().status()).isEqualTo(200);
      }
    }
    assertThat(upstream.idCounts()).containsOnlyKeys("tls-0", "tls-1", "tls-2");
    assertThat(upstream.connectionsAccepted())
        .as("one pooled TLS connection upstream")
        .isEqualTo(1);
  }

  @Test
  void theServerNameIsSentAndChecked() throws Exception {
    TestCertificates.Pair cert = httpsUpstream();
    proxy =
        ProxyUnderTest.httpToTls(
            new ClusterTlsConfig(Optional.of(cert.certificate()), Optional.of("localhost"), false),
            member());
    assertThat(get("/load/by-name").status()).isEqualTo(200);
    proxy.close();

    proxy =
        ProxyUnderTest.httpToTls(
            new ClusterTlsConfig(
                Optional.of(cert.certificate()), Optional.of("other.example"), false),
            member());
    RawHttp.Response wrongName = get("/load/wrong-name");
    assertThat(wrongName.status())
        .as("a certificate that does not name the server: %s", wrongName.bodyText())
        .isEqualTo(502);
    assertThat(wrongName.bodyText())
        .contains("TLS handshake with 127.0.0.1:" + upstream.port() + " failed");
    assertThat(upstream.idCounts()).containsOnlyKeys("by-name");
  }

  @Test
  void anUntrustedCertificateIsAFailedMemberAnd502() throws Exception {
    httpsUpstream();
    // The JVM's trust store does not know a self-signed certificate.
    proxy = ProxyUnderTest.httpToTls(ClusterTlsConfig.verifyingDefaults(), member());
    RawHttp.Response r = get("/load/untrusted");
    assertThat(r.status()).isEqualTo(502);
    assertThat(upstream.idCounts()).as("nothing of the request reached the member").isEmpty();
    assertThat(proxy.metrics.scrape())
        .contains(
            "baton_upstream_errors_total{cluster=\"backend\",reason=\"tls_handshake_failed\"} 1.0");
    MemberStatus status = proxy.cluster().memberStatuses().get(0);
    assertThat(status.failures())
        .as("counted against the member, as a refused connect is")
        .isEqualTo(1);
  }

  @Test
  void insecureSkipVerifyAcceptsAnyCertificate() throws Exception {
    httpsUpstream();
    proxy =
        ProxyUnderTest.httpToTls(
            new ClusterTlsConfig(Optional.empty(), Optional.empty(), true), member());
    assertThat(get("/load/insecure").status()).isEqualTo(200);
  }

  @Test
  void aPlainTextMemberOfATlsClusterIs502() throws Exception {
    upstream = TestUpstream.start(0);
    proxy =
        ProxyUnderTest.httpToTls(
            new ClusterTlsConfig(Optional.empty(), Optional.empty(), true), member());
    assertThat(get("/load/plain").status()).isEqualTo(502);
    assertThat(proxy.metrics.scrape())
        .contains(
            "baton_upstream_errors_total{cluster=\"backend\",reason=\"tls_handshake_failed\"} 1.0");
  }
}
