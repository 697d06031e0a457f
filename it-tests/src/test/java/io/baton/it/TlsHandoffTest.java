package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.sidecar.server.ServingLine;
import io.baton.sidecar.testsupport.OpensslClient;
import io.baton.sidecar.testsupport.TestCertificates;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.client.TlsClient;
import io.baton.testkit.load.H2LoadClient;
import io.baton.testkit.load.H2LoadResult;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TLS listeners across handoffs, with the packaged jar: HTTP/1.1 and HTTP/2 loads over TLS lose
 * nothing (TLS connections are drained, never moved), a session from one generation resumes on the
 * next (carried ticket keys), and a handoff is how a certificate is rotated.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class TlsHandoffTest {

  private static final int HANDOFFS = 10;
  // The load the h2c test runs (Http2HandoffUnderLoadTest): 16 connections x 8 concurrent streams;
  // as many HTTP/1.1 keep-alive connections beside them.
  private static final int HTTP11_CLIENTS = 16;
  private static final int H2_CONNECTIONS = 16;
  private static final int H2_STREAMS = 8;

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;

  @AfterEach
  void cleanUp() {
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
  }

  private TestCertificates.Pair certificate(String name) {
    return TestCertificates.selfSigned(fixture.dir(), name, name + ".localhost");
  }

  /**
   * One TLS listener, two loads at once: HTTP/1.1 keep-alive clients (ALPN http/1.1; the JDK's TLS)
   * and HTTP/2 clients (ALPN h2; Netty's OpenSSL) whose streams become HTTP/1.1 requests to a TLS
   * upstream. Neither retries what the server may have processed; the upstream counts every id.
   */
  @Test
  void http11AndH2OverTlsToATlsUpstreamLoseNothingAcrossTenHandoffs() throws Exception {
    TestCertificates.Pair web = certificate("web");
    TestCertificates.Pair backend = certificate("backend");
    upstream =
        TestUpstream.startTls(
            0,
            SslContextBuilder.forServer(
                    backend.certificate().toFile(), backend.privateKey().toFile())
                .build());
    // drain.migrate stays on (the default): the TLS connections must take the drain path by
    // themselves.
    Path config =
        fixture
            .config()
            .servingHeader(true)
            .drainTimeout("30s")
            .httpsListener("web", "127.0.0.1:0", "backend", web.certificate(), web.privateKey())
            .tlsCluster("backend", backend.certificate(), "127.0.0.1:" + upstream.port())
            .write();
    Generations generations = new Generations(fixture, config);
    InetSocketAddress address = generations.start().listener("web");

    LoadClient http11 =
        LoadClient.builder(address.getHostString(), address.getPort())
            .workers(HTTP11_CLIENTS)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .maxDuration(Duration.ofMinutes(3))
            .tls(TlsClient.trusting(web.certificate()), "localhost")
            .build();
    // Each stream is kept 20 ms at the upstream, so every drain finds streams in flight.
    H2LoadClient h2 =
        H2LoadClient.builder(address.getHostString(), address.getPort())
            .connections(H2_CONNECTIONS)
            .streams(H2_STREAMS)
            .query("?delay=20")
            .tls(web.certificate(), "localhost")
            .maxDuration(Duration.ofMinutes(3))
            .build();
    http11.start();
    h2.start();
    try {
      for (int i = 1; i <= HANDOFFS; i++) {
        long http11Before = http11.result().ok();
        long h2Before = h2.result().completed();
        generations.handOff();
        // Both loads keep succeeding between handoffs, so each handoff happens under both.
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    http11.result().ok() > http11Before + HTTP11_CLIENTS
                        && h2.result().completed() > h2Before + H2_CONNECTIONS * H2_STREAMS);
      }
    } finally {
      http11.stop();
      h2.stop();
    }
    LoadResult http11Result = http11.awaitResult(Duration.ofSeconds(60));
    H2LoadResult h2Result = h2.awaitResult(Duration.ofSeconds(60));
    System.out.println(
        "TLS loads across "
            + HANDOFFS
            + " handoffs: http/1.1 "
            + http11Result
            + "; h2 "
            + h2Result);

    assertThat(http11Result.failed())
        .as("failed HTTP/1.1 requests across %d handoffs: %s", HANDOFFS, http11Result)
        .isZero();
    assertThat(http11Result.ok()).isEqualTo(http11.idsSent().size());
    assertThat(h2Result.finished()).as("every stream ended: %s", h2Result).isTrue();
    assertThat(h2Result.failed())
        .as("failed h2 streams across %d handoffs: %s", HANDOFFS, h2Result)
        .isZero();
    assertThat(h2Result.completed()).isEqualTo(h2Result.attempted());
    assertThat(h2Result.goawaysReceived())
        .as("each drain sent GOAWAY on every h2 connection")
        .isGreaterThanOrEqualTo(HANDOFFS);

    Set<String> sent = new HashSet<>(http11.idsSent());
    sent.addAll(h2.idsSent());
    Map<String, Integer> arrived = upstream.idCounts();
    assertThat(arrived.keySet())
        .as("every id sent arrived at the upstream, and nothing else")
        .isEqualTo(sent);
    assertThat(arrived.values()).as("and exactly once").allMatch(n -> n == 1);
    assertThat(http11Result.connectionCloseResponses())
        .as(
            "each drain tells its HTTP/1.1 TLS clients Connection: close; they reconnect to the"
                + " next generation")
        .isPositive();
    assertThat(http11Result.perGeneration().keySet()).contains("1", String.valueOf(HANDOFFS + 1));
    assertThat(h2Result.perGeneration().keySet()).contains("1", String.valueOf(HANDOFFS + 1));
    String metrics = Admin.metrics(generations.serving().admin());
    assertThat(metrics)
        .as("no TLS connection was moved, in any generation (counters carry over)")
        .doesNotContain("baton_connections_migrated_total{listener=\"web\"");
    assertThat(metrics)
        .contains("baton_tls_handshakes_total{listener=\"web\",result=\"failed\"} 0.0");
    System.out.println(metrics.lines().filter(l -> l.startsWith("baton_tls_")).toList());
  }

  @Test
  void aSessionFromGenerationOneResumesOnGenerationTwo() throws Exception {
    TestCertificates.Pair web = certificate("web");
    upstream = TestUpstream.start(0);
    Path config =
        fixture
            .config()
            .httpsListener("web", "127.0.0.1:0", "backend", web.certificate(), web.privateKey())
            .cluster("backend", "127.0.0.1:" + upstream.port())
            .write();
    Generations generations = new Generations(fixture, config);
    int port = generations.start().listener("web").getPort();
    Path session = fixture.dir().resolve("session.pem");

    OpensslClient.Result first = OpensslClient.get(port, "/load/on-gen1", null, session, null);
    assertThat(first.fresh()).as(first.output()).isTrue();
    assertThat(first.statusLine()).startsWith("HTTP/1.1 200");

    ServingLine second = generations.handOff();
    // Fails without SessionTickets' carried state (HandoffSourceAdapter.carriedState): generation 2
    // would have keys of its own and answer "New".
    OpensslClient.Result resumed = OpensslClient.get(port, "/load/on-gen2", session, null, null);
    assertThat(resumed.reused())
        .as("generation 1's session resumes on generation 2: %s", resumed.output())
        .isTrue();
    assertThat(resumed.statusLine()).startsWith("HTTP/1.1 200");
    assertThat(Admin.metrics(second.admin()))
        .contains("baton_tls_resumptions_total{listener=\"web\"} 1.0");
    assertThat(generations.active().stderrText() + fixture.dir())
        .as("key material is never logged")
        .doesNotContainPattern("[0-9a-f]{64}");
  }

  @Test
  void aHandoffRotatesTheCertificateAndABrokenOneLeavesTheOldGenerationServing() throws Exception {
    TestCertificates.Pair web = certificate("web");
    TestCertificates.Pair rotated = certificate("rotated");
    upstream = TestUpstream.start(0);
    Path cert = fixture.dir().resolve("live.crt");
    Path key = fixture.dir().resolve("live.key");
    Files.copy(web.certificate(), cert);
    Files.copy(web.privateKey(), key);
    Path config =
        fixture
            .config()
            .httpsListener("web", "127.0.0.1:0", "backend", cert, key)
            .cluster("backend", "127.0.0.1:" + upstream.port())
            .write();
    Generations generations = new Generations(fixture, config);
    int port = generations.start().listener("web").getPort();
    assertThat(peerCertificate(port)).isEqualTo(fileCertificate(web.certificate()));

    // Rotation: new files in place, then a handoff; the new generation reads them as they are now.
    Files.copy(rotated.certificate(), cert, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(rotated.privateKey(), key, StandardCopyOption.REPLACE_EXISTING);
    generations.handOff();
    assertThat(peerCertificate(port))
        .as("generation 2 serves the rotated certificate")
        .isEqualTo(fileCertificate(rotated.certificate()));
    assertThat(generations.active().stderrText())
        .as("its log names the certificate it read")
        .contains("listener web: TLS with CN=rotated.localhost from " + cert);

    // A broken certificate: the next generation refuses to start, naming the file; generation 2
    // serves on.
    Files.writeString(
        cert, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    BatonProcess refused = fixture.start(config);
    assertThat(refused.awaitExit(Generations.WAIT)).as(refused.stderrText()).isEqualTo(2);
    assertThat(refused.stderrText())
        .contains(
            "listeners[0].tls.certificate: \""
                + cert
                + "\" (expected a readable PEM certificate file): not a valid certificate");
    assertThat(generations.active().isAlive()).isTrue();
    OpensslClient.Result still = OpensslClient.get(port, "/load/still-served", null, null, null);
    assertThat(still.statusLine()).as(still.output()).startsWith("HTTP/1.1 200");
    assertThat(certificateIn(still.serverCertificate()))
        .isEqualTo(fileCertificate(rotated.certificate()));

    // Plain text on the TLS listener: that connection's handshake fails, is logged with the peer
    // and counted; the generation serves on.
    try (RawHttp plaintext = new RawHttp(new InetSocketAddress("127.0.0.1", port))) {
      plaintext.send("GET /load/plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(plaintext.awaitEof()).as("closed without an answer").isTrue();
    }
    generations
        .active()
        .awaitLogLine("listener web: TLS handshake with /127.0.0.1:", Generations.WAIT);
    assertThat(generations.active().stderrText())
        .contains("failed: not a TLS record (a plaintext client, or garbage)");
    assertThat(Admin.metrics(generations.serving().admin()))
        .contains("baton_tls_handshakes_total{listener=\"web\",result=\"failed\"} 1.0");
    assertThat(OpensslClient.get(port, "/load/after-plaintext", null, null, null).statusLine())
        .startsWith("HTTP/1.1 200");
    assertThat(upstream.idCounts()).doesNotContainKey("plaintext");
  }

  private static Certificate peerCertificate(int port) throws Exception {
    OpensslClient.Result r =
        OpensslClient.get(port, "/load/cert-" + System.nanoTime(), null, null, null);
    assertThat(r.statusLine()).as(r.output()).startsWith("HTTP/1.1 200");
    return certificateIn(r.serverCertificate());
  }

  private static Certificate certificateIn(String pem) throws Exception {
    assertThat(pem).as("s_client printed the server certificate").isNotNull();
    return CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }

  private static Certificate fileCertificate(Path pem) throws Exception {
    return certificateIn(Files.readString(pem));
  }
}
