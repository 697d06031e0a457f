package io.baton.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.baton.sidecar.testsupport.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private static final String VALID =
      """
      runDir: /tmp/baton-run
      admin:
        address: 127.0.0.1:9901
      drain:
        timeout: 30s
      listeners:
        - name: web
          address: 0.0.0.0:8080
          protocol: http
          cluster: backend
      clusters:
        - name: backend
          endpoints: [127.0.0.1:9000]
      """;

  @Test
  void contractConfigFromTheDesignLoadsWithDefaults() throws Exception {
    BatonConfig c = ConfigLoader.parse(VALID, "test");
    assertThat(c.runDir()).isEqualTo(Path.of("/tmp/baton-run"));
    assertThat(c.admin().address()).isEqualTo(new HostPort("127.0.0.1", 9901));
    assertThat(c.drain().timeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.listeners())
        .containsExactly(
            new ListenerConfig(
                "web", new HostPort("0.0.0.0", 8080), ListenerProtocol.HTTP, "backend"));
    assertThat(c.clusters().get(0).endpoints()).containsExactly(new HostPort("127.0.0.1", 9000));
    assertThat(c.clusters().get(0).connectTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.handoff().stepTimeout()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void migrationIsOnUnlessTheConfigTurnsItOff() throws Exception {
    assertThat(ConfigLoader.parse(VALID, "test").drain().migrate()).isTrue();
    assertThat(
            ConfigLoader.parse(
                    VALID.replace("  timeout: 30s", "  timeout: 30s\n  migrate: false"), "test")
                .drain()
                .migrate())
        .isFalse();
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    VALID.replace("  timeout: 30s", "  timeout: 30s\n  migrate: sometimes"),
                    "test"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("drain.migrate: \"sometimes\"");
  }

  @Test
  void clusterProtocolIsHttp1UnlessTheConfigSaysH2c() throws Exception {
    assertThat(ConfigLoader.parse(VALID, "test").clusters().get(0).protocol())
        .isEqualTo(UpstreamProtocol.HTTP1);
    String h2c =
        VALID.replace(
            "    endpoints: [127.0.0.1:9000]",
            "    endpoints: [127.0.0.1:9000]\n    protocol: h2c");
    assertThat(ConfigLoader.parse(h2c, "test").clusters().get(0).protocol())
        .isEqualTo(UpstreamProtocol.H2C);
    assertThatThrownBy(
            () -> ConfigLoader.parse(h2c.replace("protocol: h2c", "protocol: http2"), "test"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("clusters[0].protocol: \"http2\" (expected http1, h2c or h2)");
  }

  @Test
  void http2GoawayDelayDefaultsToFiveSeconds() throws Exception {
    assertThat(ConfigLoader.parse(VALID, "test").drain().http2GoawayDelay())
        .isEqualTo(Duration.ofSeconds(5));
    String custom = VALID.replace("  timeout: 30s", "  timeout: 30s\n  http2GoawayDelay: 250ms");
    assertThat(ConfigLoader.parse(custom, "test").drain().http2GoawayDelay())
        .isEqualTo(Duration.ofMillis(250));
    assertThatThrownBy(() -> ConfigLoader.parse(custom.replace("250ms", "\"1\""), "test"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("drain.http2GoawayDelay: \"1\" (expected a duration");
  }

  @Test
  void warmUpDefaultsToFiveHundredRequestsWithinASecondAndZeroTurnsItOff() throws Exception {
    assertThat(ConfigLoader.parse(VALID, "test").handoff().warmUpRequests()).isEqualTo(500);
    assertThat(ConfigLoader.parse(VALID, "test").handoff().warmUpTimeout())
        .isEqualTo(Duration.ofSeconds(1));
    String with =
        VALID.replace(
            "listeners:", "handoff:\n  warmUpRequests: %s\n  warmUpTimeout: %s\nlisteners:");
    assertThat(ConfigLoader.parse(with.formatted("0", "500ms"), "test").handoff().warmUpRequests())
        .isZero();
    assertThat(ConfigLoader.parse(with.formatted("0", "500ms"), "test").handoff().warmUpTimeout())
        .isEqualTo(Duration.ofMillis(500));
    assertThatThrownBy(() -> ConfigLoader.parse(with.formatted("-1", "1s"), "test"))
        .hasMessageContaining("handoff.warmUpRequests: -1 (expected a whole number >= 0)");
    assertThatThrownBy(() -> ConfigLoader.parse(with.formatted("10", "\"2\""), "test"))
        .hasMessageContaining(
            "handoff.warmUpTimeout: \"2\" (expected a duration such as 30s, 500ms, 2m)");
  }

  @Test
  void maxDrainingDefaultsToThreeAndMustBeAWholeNumberOfAtLeastOne() throws Exception {
    assertThat(ConfigLoader.parse(VALID, "test").handoff().maxDraining()).isEqualTo(3);
    String withMax = VALID.replace("listeners:", "handoff:\n  maxDraining: %s\nlisteners:");
    assertThat(ConfigLoader.parse(withMax.formatted("1"), "test").handoff().maxDraining())
        .isEqualTo(1);
    assertThatThrownBy(() -> ConfigLoader.parse(withMax.formatted("0"), "test"))
        .hasMessageContaining("handoff.maxDraining: 0 (expected a whole number >= 1)");
    assertThatThrownBy(() -> ConfigLoader.parse(withMax.formatted("\"two\""), "test"))
        .hasMessageContaining("handoff.maxDraining: \"two\" (expected a whole number >= 1)");
    assertThatThrownBy(() -> ConfigLoader.parse(withMax.formatted("1.5"), "test"))
        .hasMessageContaining("handoff.maxDraining: 1.5 (expected a whole number >= 1)");
  }

  @Test
  void unknownKeyIsNamedWithTheKeysThatAreAllowed() {
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    VALID.replace("  timeout: 30s", "  timeout: 30s\n  grace: 5s"), "test"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "drain.grace: unknown key (expected one of: http2GoawayDelay, migrate, timeout)");
  }

  @Test
  void durationWithoutUnitNamesKeyValueAndExpectedForm() {
    assertThatThrownBy(
            () -> ConfigLoader.parse(VALID.replace("timeout: 30s", "timeout: \"30\""), "test"))
        .hasMessageContaining("drain.timeout: \"30\" (expected a duration such as 30s, 500ms, 2m)");
  }

  @Test
  void listenerNamingAMissingClusterIsAnError() {
    assertThatThrownBy(
            () -> ConfigLoader.parse(VALID.replace("cluster: backend", "cluster: nowhere"), "test"))
        .hasMessageContaining(
            "listeners[0].cluster: \"nowhere\" (expected the name of a cluster under clusters:"
                + " [backend])");
  }

  @Test
  void badAddressAndBadProtocolAreBothReported() {
    String bad = VALID.replace("0.0.0.0:8080", "8080").replace("protocol: http", "protocol: udp");
    assertThatThrownBy(() -> ConfigLoader.parse(bad, "test"))
        .hasMessageContaining("listeners[0].address: 8080 (expected host:port")
        .hasMessageContaining("listeners[0].protocol: \"udp\" (expected http or tcp)");
  }

  @Test
  void listenerConnectionLimitIsReadAndAbsentMeansNone() throws Exception {
    String limited = VALID.replace("cluster: backend", "cluster: backend\n    maxConnections: 500");

    assertThat(ConfigLoader.parse(limited, "test").listeners().get(0).maxConnections())
        .isEqualTo(500);
    assertThat(ConfigLoader.parse(VALID, "test").listeners().get(0).maxConnections())
        .isEqualTo(ListenerConfig.UNLIMITED);
  }

  @Test
  void listenerConnectionLimitBelowOneIsAnError() {
    String zero = VALID.replace("cluster: backend", "cluster: backend\n    maxConnections: 0");

    assertThatThrownBy(() -> ConfigLoader.parse(zero, "test"))
        .hasMessageContaining("listeners[0].maxConnections: 0 (expected a whole number >= 1)");
  }

  @Test
  void listenerMayNotTakeTheAdminName() {
    assertThatThrownBy(() -> ConfigLoader.parse(VALID.replace("name: web", "name: admin"), "test"))
        .hasMessageContaining("listeners[0].name: \"admin\"");
  }

  @Test
  void relativeRunDirIsRefused() {
    assertThatThrownBy(() -> ConfigLoader.parse(VALID.replace("/tmp/baton-run", "run"), "test"))
        .hasMessageContaining("runDir: \"run\" (expected an absolute path)");
  }

  @Test
  void missingFileNamesThePath(@TempDir Path dir) {
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> ConfigLoader.load(missing))
        .hasMessageContaining(missing + ": does not exist");
  }

  @Test
  void unreadableYamlNamesTheFile(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("bad.yaml"), "listeners: [\n");
    assertThatThrownBy(() -> ConfigLoader.load(file))
        .hasMessageContaining("bad.yaml: not valid YAML");
  }

  @Test
  void ipv6AddressesInBrackets() throws Exception {
    BatonConfig c = ConfigLoader.parse(VALID.replace("0.0.0.0:8080", "\"[::1]:8080\""), "test");
    assertThat(c.listeners().get(0).address()).isEqualTo(new HostPort("::1", 8080));
    assertThat(c.listeners().get(0).address().toString()).isEqualTo("[::1]:8080");
  }

  private static final String DISCOVERED =
      VALID.replace(
          "    endpoints: [127.0.0.1:9000]\n",
          """
              discovery:
                etcd:
                  endpoints: [127.0.0.1:2379, "http://127.0.0.1:22379/"]
                  prefix: /baton/clusters/backend/
                dumpPath: /var/lib/baton/backend.json
                strongDependency: true
          """);

  @Test
  void discoveryFromEtcdWithDumpAndStrongDependency() throws Exception {
    ClusterConfig cluster = ConfigLoader.parse(DISCOVERED, "test").clusters().get(0);
    assertThat(cluster.endpoints()).isEmpty();
    DiscoveryConfig d = cluster.discovery().orElseThrow();
    assertThat(d.etcd().endpoints())
        .containsExactly(new HostPort("127.0.0.1", 2379), new HostPort("127.0.0.1", 22379));
    assertThat(d.etcd().prefix()).isEqualTo("/baton/clusters/backend/");
    assertThat(d.etcd().timeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(d.dumpPath()).contains(Path.of("/var/lib/baton/backend.json"));
    assertThat(d.strongDependency()).isTrue();
    assertThat(ConfigLoader.parse(VALID, "test").clusters().get(0).discovery()).isEmpty();
  }

  @Test
  void discoveryProblemsNameTheKeyTheValueAndWhatWasExpected() {
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    DISCOVERED
                        .replace("prefix: /baton/clusters/backend/", "prefix: \"\"")
                        .replace("\"http://127.0.0.1:22379/\"", "\"https://127.0.0.1:22379\"")
                        .replace("dumpPath: /var/lib/baton/backend.json", "dumpPath: backend.json")
                        .replace("strongDependency: true", "strongDependency: maybe"),
                    "test"))
        .hasMessageContaining(
            "clusters[0].discovery.etcd.prefix: \"\" (expected a key prefix such as"
                + " /baton/clusters/backend/)")
        .hasMessageContaining(
            "clusters[0].discovery.etcd.endpoints[1]: \"https://127.0.0.1:22379\" (expected an"
                + " http:// address (TLS to etcd is not supported))")
        .hasMessageContaining(
            "clusters[0].discovery.dumpPath: \"backend.json\" (expected an absolute path)")
        .hasMessageContaining(
            "clusters[0].discovery.strongDependency: \"maybe\" (expected true or false)");
  }

  @Test
  void staticEndpointsAndDiscoveryAreExclusive() {
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    DISCOVERED.replace(
                        "    discovery:", "    endpoints: [127.0.0.1:9000]\n    discovery:"),
                    "test"))
        .hasMessageContaining(
            "clusters[0].endpoints: [\"127.0.0.1:9000\"] (expected no endpoints when the cluster"
                + " has discovery");
  }

  @Test
  void theExampleConfigInDeployLoads() throws Exception {
    BatonConfig c = ConfigLoader.load(Path.of("../deploy/examples/baton.yaml"));
    assertThat(c.clusters())
        .extracting(ClusterConfig::name)
        .containsExactly("backend", "postgres", "catalog", "grpc-backend");
    assertThat(c.clusters().get(2).discovery().orElseThrow().etcd().prefix())
        .isEqualTo("/baton/clusters/catalog/");
    assertThat(c.clusters().get(3).protocol()).isEqualTo(UpstreamProtocol.H2C);
    assertThat(c.drain().http2GoawayDelay()).isEqualTo(DrainConfig.DEFAULT_HTTP2_GOAWAY_DELAY);
  }

  // ---- TLS ----

  private static String withListenerTls(String certificate, String privateKey) {
    return VALID.replace(
        "    cluster: backend\n",
        "    cluster: backend\n    tls:\n      certificate: \""
            + certificate
            + "\"\n      privateKey: \""
            + privateKey
            + "\"\n");
  }

  @Test
  void listenerTlsReadsBothPemFilesAtLoadTime(@TempDir Path dir) throws Exception {
    TestCertificates.Pair pair = TestCertificates.selfSigned(dir, "web", "localhost");
    BatonConfig c =
        ConfigLoader.parse(
            withListenerTls(pair.certificate().toString(), pair.privateKey().toString()), "test");
    assertThat(c.listeners().get(0).tls())
        .contains(new ListenerTlsConfig(pair.certificate(), pair.privateKey()));
  }

  @Test
  void listenerTlsFileProblemsNameTheKeyTheFileAndWhy(@TempDir Path dir) throws Exception {
    TestCertificates.Pair pair = TestCertificates.selfSigned(dir, "web", "localhost");
    Path missing = dir.resolve("nope.pem");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    withListenerTls(missing.toString(), pair.privateKey().toString()), "test"))
        .hasMessageContaining(
            "listeners[0].tls.certificate: \""
                + missing
                + "\" (expected a readable PEM certificate file): does not exist");

    Path garbage =
        Files.writeString(
            dir.resolve("garbage.pem"),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    withListenerTls(garbage.toString(), pair.privateKey().toString()), "test"))
        .hasMessageContaining(
            "listeners[0].tls.certificate: \""
                + garbage
                + "\" (expected a readable PEM certificate file): not a valid certificate");

    // The certificate given as the key, and a key that is another certificate's.
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    withListenerTls(pair.certificate().toString(), pair.certificate().toString()),
                    "test"))
        .hasMessageContaining(
            "listeners[0].tls.privateKey: \""
                + pair.certificate()
                + "\" (expected a readable PEM private key file): no \"BEGIN PRIVATE KEY\" block"
                + " found");
    TestCertificates.Pair other = TestCertificates.selfSigned(dir, "other", "other");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    withListenerTls(pair.certificate().toString(), other.privateKey().toString()),
                    "test"))
        .hasMessageContaining(
            "listeners[0].tls.privateKey: \""
                + other.privateKey()
                + "\" (expected the private key of the first "
                + "certificate in "
                + pair.certificate()
                + "): it belongs to another certificate");

    Path pkcs1 =
        Files.writeString(
            dir.resolve("rsa.key"),
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    withListenerTls(pair.certificate().toString(), pkcs1.toString()), "test"))
        .hasMessageContaining(
            "listeners[0].tls.privateKey: \""
                + pkcs1
                + "\" (expected a readable PEM private key file): "
                + "\"BEGIN RSA PRIVATE KEY\" is not PKCS#8");

    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    withListenerTls("web.crt", pair.privateKey().toString()), "test"))
        .hasMessageContaining(
            "listeners[0].tls.certificate: \"web.crt\" (expected the absolute path of a PEM"
                + " certificate file)");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    VALID.replace(
                        "    cluster: backend\n",
                        "    cluster: backend\n    tls: {certificate: \""
                            + pair.certificate()
                            + "\"}\n"),
                    "test"))
        .hasMessageContaining(
            "listeners[0].tls.privateKey: missing (expected the absolute path of a PEM private key"
                + " file)");
  }

  @Test
  void tlsIsForHttpListenersOnly(@TempDir Path dir) {
    TestCertificates.Pair pair = TestCertificates.selfSigned(dir, "web", "localhost");
    String tcp =
        withListenerTls(pair.certificate().toString(), pair.privateKey().toString())
            .replace("protocol: http", "protocol: tcp");
    assertThatThrownBy(() -> ConfigLoader.parse(tcp, "test"))
        .hasMessageContaining("listeners[0].tls: ")
        .hasMessageContaining("(expected no tls on a tcp listener");
  }

  @Test
  void clusterTlsHasDefaultsAndChecksItsFile(@TempDir Path dir) throws Exception {
    BatonConfig plain =
        ConfigLoader.parse(
            VALID.replace(
                "endpoints: [127.0.0.1:9000]", "endpoints: [127.0.0.1:9000]\n    tls: {}"),
            "test");
    assertThat(plain.clusters().get(0).tls()).contains(ClusterTlsConfig.verifyingDefaults());

    TestCertificates.Pair ca = TestCertificates.selfSigned(dir, "ca", "localhost");
    BatonConfig full =
        ConfigLoader.parse(
            VALID.replace(
                "endpoints: [127.0.0.1:9000]",
                "endpoints: [127.0.0.1:9000]\n"
                    + "    tls: {trustedCertificates: \""
                    + ca.certificate()
                    + "\", serverName: backend.internal}"),
            "test");
    assertThat(full.clusters().get(0).tls())
        .contains(
            new ClusterTlsConfig(
                Optional.of(ca.certificate()), Optional.of("backend.internal"), false));

    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    VALID.replace(
                        "endpoints: [127.0.0.1:9000]",
                        "endpoints: [127.0.0.1:9000]\n"
                            + "    tls: {trustedCertificates: \""
                            + ca.privateKey()
                            + "\", serverName: \"bad name\", verify: true}"),
                    "test"))
        .hasMessageContaining(
            "clusters[0].tls.trustedCertificates: \""
                + ca.privateKey()
                + "\" (expected a readable PEM certificate file): no \"BEGIN CERTIFICATE\" block"
                + " found")
        .hasMessageContaining(
            "clusters[0].tls.serverName: \"bad name\" (expected a DNS name such as"
                + " backend.internal)")
        .hasMessageContaining(
            "clusters[0].tls.verify: unknown key (expected one of: insecureSkipVerify, serverName,"
                + " trustedCertificates)");

    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    VALID.replace(
                        "endpoints: [127.0.0.1:9000]",
                        "endpoints: [127.0.0.1:9000]\n"
                            + "    tls: {trustedCertificates: \""
                            + ca.certificate()
                            + "\", insecureSkipVerify: true}"),
                    "test"))
        .hasMessageContaining(
            "clusters[0].tls.insecureSkipVerify: true (expected false when trustedCertificates is"
                + " set");
  }

  @Test
  void aTcpListenerCannotUseATlsCluster() {
    String yaml =
        VALID
            .replace("protocol: http", "protocol: tcp")
            .replace("endpoints: [127.0.0.1:9000]", "endpoints: [127.0.0.1:9000]\n    tls: {}");
    assertThatThrownBy(() -> ConfigLoader.parse(yaml, "test"))
        .hasMessageContaining(
            "listeners[0].cluster: \"backend\" (expected a cluster without tls for a tcp listener");
  }

  @Test
  void theTlsExampleInDeployLoadsWithItsFilesInPlace(@TempDir Path dir) throws Exception {
    TestCertificates.Pair web = TestCertificates.selfSigned(dir, "web", "localhost");
    TestCertificates.Pair ca = TestCertificates.selfSigned(dir, "backend-ca", "backend.internal");
    String yaml =
        Files.readString(Path.of("../deploy/examples/baton-tls.yaml"))
            .replace("/etc/baton/tls/web.crt", web.certificate().toString())
            .replace("/etc/baton/tls/web.key", web.privateKey().toString())
            .replace("/etc/baton/tls/backend-ca.crt", ca.certificate().toString());
    BatonConfig c = ConfigLoader.parse(yaml, "baton-tls.yaml");
    assertThat(c.listeners().get(0).tls())
        .contains(new ListenerTlsConfig(web.certificate(), web.privateKey()));
    assertThat(c.clusters().get(0).tls())
        .contains(
            new ClusterTlsConfig(
                Optional.of(ca.certificate()), Optional.of("backend.internal"), false));
  }

  @Test
  void h2cIsCleartextAndPointsToH2ForTls() {
    String yaml =
        VALID.replace(
            "endpoints: [127.0.0.1:9000]",
            "endpoints: [127.0.0.1:9000]\n    protocol: h2c\n    tls: {}");
    assertThatThrownBy(() -> ConfigLoader.parse(yaml, "test"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "clusters[0].tls: {} (expected no tls with protocol h2c (h2c is cleartext HTTP/2; use"
                + " protocol h2 for HTTP/2 to members over TLS))");
  }

  @Test
  void h2IsHttp2OverTlsAndNeedsTlsSettings() throws Exception {
    String h2 =
        VALID.replace(
            "endpoints: [127.0.0.1:9000]",
            "endpoints: [127.0.0.1:9000]\n"
                + "    protocol: h2\n"
                + "    tls: {serverName: backend.internal}");
    ClusterConfig c = ConfigLoader.parse(h2, "test").clusters().get(0);
    assertThat(c.protocol()).isEqualTo(UpstreamProtocol.H2);
    assertThat(c.protocol().http2()).isTrue();
    assertThat(c.tls())
        .contains(new ClusterTlsConfig(Optional.empty(), Optional.of("backend.internal"), false));

    String noTls =
        VALID.replace(
            "endpoints: [127.0.0.1:9000]", "endpoints: [127.0.0.1:9000]\n    protocol: h2");
    assertThatThrownBy(() -> ConfigLoader.parse(noTls, "test"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "clusters[0].protocol: \"h2\" (expected tls settings: HTTP/2 to members over TLS;"
                + " protocol h2c for cleartext HTTP/2)");
  }
}
