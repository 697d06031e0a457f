package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.sidecar.demo.BatonProcess;
import io.baton.sidecar.demo.LoadClient;
import io.baton.sidecar.demo.LoadResult;
import io.baton.sidecar.demo.ServingLine;
import io.baton.sidecar.demo.TestUpstream;
import io.baton.sidecar.demo.TlsClient;
import io.baton.sidecar.testsupport.OpensslClient;
import io.baton.sidecar.testsupport.TestCertificates;
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
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TLS listeners across handoffs, with the packaged jar: a TLS keep-alive load loses nothing (TLS
 * connections are drained, never moved), a session from one generation resumes on the next
 * (carried ticket keys), and a handoff is how a certificate is rotated.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class TlsHandoffTest {

  private static final int HANDOFFS = 10;
  private static final int CLIENTS = 16;

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

  @Test
  void tlsKeepAliveLoadToATlsUpstreamLosesNothingAcrossTenHandoffs() throws Exception {
    TestCertificates.Pair web = certificate("web");
    TestCertificates.Pair backend = certificate("backend");
    upstream = TestUpstream.startTls(0,
        SslContextBuilder.forServer(backend.certificate().toFile(), backend.privateKey().toFile()).build());
    // drain.migrate stays on (the default): the TLS connections must take the drain path by themselves.
    Path config = fixture.config()
        .servingHeader(true)
        .drainTimeout("30s")
        .httpsListener("web", "127.0.0.1:0", "backend", web.certificate(), web.privateKey())
        .tlsCluster("backend", backend.certificate(), "127.0.0.1:" + upstream.port())
        .write();
    Generations generations = new Generations(fixture, config);
    InetSocketAddress address = generations.start().listener("web");

    LoadClient load = LoadClient.builder(address.getHostString(), address.getPort())
        .workers(CLIENTS).mode(LoadClient.Mode.KEEP_ALIVE).maxDuration(Duration.ofMinutes(3))
        .tls(TlsClient.trusting(web.certificate()), "localhost")
        .build();
    load.start();
    try {
      for (int i = 1; i <= HANDOFFS; i++) {
        long before = load.result().ok();
        generations.handOff();
        // Requests keep succeeding between handoffs, so each handoff happens under load.
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> load.result().ok() > before + CLIENTS);
      }
    } finally {
      load.stop();
    }
    LoadResult result = load.awaitResult(Duration.ofSeconds(60));

    assertThat(result.failed()).as("failed requests across %d handoffs: %s", HANDOFFS, result).isZero();
    assertThat(result.ok()).isEqualTo(load.idsSent().size());
    Map<String, Integer> arrived = upstream.idCounts();
    assertThat(arrived.keySet()).as("every id sent arrived at the upstream, and nothing else").isEqualTo(new HashSet<>(load.idsSent()));
    assertThat(arrived.values()).as("and exactly once").allMatch(n -> n == 1);
    assertThat(result.connectionCloseResponses())
        .as("each drain tells its TLS clients Connection: close; they reconnect to the next generation").isPositive();
    assertThat(result.perGeneration().keySet()).contains("1", String.valueOf(HANDOFFS + 1));
    String metrics = Admin.metrics(generations.serving().admin());
    assertThat(metrics).as("no TLS connection was moved, in any generation (counters carry over)")
        .doesNotContain("baton_connections_migrated_total{listener=\"web\"");
    assertThat(metrics).contains("baton_tls_handshakes_total{listener=\"web\",result=\"failed\"} 0.0");
    System.out.println("TLS keep-alive load across " + HANDOFFS + " handoffs: " + result + "; "
        + metrics.lines().filter(l -> l.startsWith("baton_tls_")).toList());
  }

  @Test
  void aSessionFromGenerationOneResumesOnGenerationTwo() throws Exception {
    TestCertificates.Pair web = certificate("web");
    upstream = TestUpstream.start(0);
    Path config = fixture.config()
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
    // Fails without SessionTickets' carried state (SidecarServer.Source.carriedState): generation 2
    // would have keys of its own and answer "New".
    OpensslClient.Result resumed = OpensslClient.get(port, "/load/on-gen2", session, null, null);
    assertThat(resumed.reused()).as("generation 1's session resumes on generation 2: %s", resumed.output()).isTrue();
    assertThat(resumed.statusLine()).startsWith("HTTP/1.1 200");
    assertThat(Admin.metrics(second.admin())).contains("baton_tls_resumptions_total{listener=\"web\"} 1.0");
    assertThat(generations.active().stderrText() + fixture.dir())
        .as("key material is never logged").doesNotContainPattern("[0-9a-f]{64}");
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
    Path config = fixture.config()
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
    assertThat(peerCertificate(port)).as("generation 2 serves the rotated certificate").isEqualTo(fileCertificate(rotated.certificate()));

    // A broken certificate: the next generation refuses to start, naming the file; generation 2 serves on.
    Files.writeString(cert, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    BatonProcess refused = fixture.start(config);
    assertThat(refused.awaitExit(Generations.WAIT)).as(refused.stderrText()).isEqualTo(2);
    assertThat(refused.stderrText())
        .contains("listeners[0].tls.certificate: \"" + cert + "\" (expected a readable PEM certificate file): not a valid certificate");
    assertThat(generations.active().isAlive()).isTrue();
    OpensslClient.Result still = OpensslClient.get(port, "/load/still-served", null, null, null);
    assertThat(still.statusLine()).as(still.output()).startsWith("HTTP/1.1 200");
    assertThat(certificateIn(still.serverCertificate())).isEqualTo(fileCertificate(rotated.certificate()));
  }

  private static Certificate peerCertificate(int port) throws Exception {
    OpensslClient.Result r = OpensslClient.get(port, "/load/cert-" + System.nanoTime(), null, null, null);
    assertThat(r.statusLine()).as(r.output()).startsWith("HTTP/1.1 200");
    return certificateIn(r.serverCertificate());
  }

  private static Certificate certificateIn(String pem) throws Exception {
    assertThat(pem).as("s_client printed the server certificate").isNotNull();
    return CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }

  private static Certificate fileCertificate(Path pem) throws Exception {
    return certificateIn(Files.readString(pem));
  }
}
