package io.baton.sidecar.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The two {@code tls} mappings: a listener's (terminating TLS) and a cluster's (TLS to members).
 * PEM files are read here, at load time, so a missing, unreadable or broken file stops start-up
 * naming the file instead of failing the first handshake.
 */
final class TlsSections {

  private final ConfigFields fields;

  TlsSections(ConfigFields fields) {
    this.fields = fields;
  }

  /**
   * {@code tls: {certificate, privateKey}}: both PEM files are read now, so a missing, unreadable
   * or broken file (or a key that is not the certificate's) stops start-up here, naming the file.
   */
  Optional<ListenerTlsConfig> listener(String at, JsonNode node) {
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isObject()) {
      fields.problem(at, node, "a mapping with certificate and privateKey");
      return Optional.empty();
    }
    fields.onlyKeys(at + ".", node, Set.of("certificate", "privateKey"));
    Path certificate =
        fields.absolutePath(at + ".certificate", node.get("certificate"), "a PEM certificate file");
    Path privateKey =
        fields.absolutePath(at + ".privateKey", node.get("privateKey"), "a PEM private key file");
    List<X509Certificate> chain = null;
    PrivateKey key = null;
    if (certificate != null) {
      try {
        chain = PemFiles.certificates(certificate);
      } catch (PemFiles.PemException e) {
        fields.problem(
            at + ".certificate",
            node.get("certificate"),
            "a readable PEM certificate file",
            e.getMessage());
      }
    }
    if (privateKey != null) {
      try {
        key = PemFiles.privateKey(privateKey);
      } catch (PemFiles.PemException e) {
        fields.problem(
            at + ".privateKey",
            node.get("privateKey"),
            "a readable PEM private key file",
            e.getMessage());
      }
    }
    if (chain != null && key != null && !PemFiles.matches(key, chain.get(0))) {
      fields.problem(
          at + ".privateKey",
          node.get("privateKey"),
          "the private key of the first certificate in " + certificate,
          "it belongs to another certificate");
    }
    if (certificate == null || privateKey == null) {
      return Optional.empty();
    }
    return Optional.of(new ListenerTlsConfig(certificate, privateKey));
  }

  /**
   * {@code tls: {trustedCertificates, serverName, insecureSkipVerify}}, all optional: {@code tls:
   * {}} is TLS checked against the JVM's trust store.
   */
  Optional<ClusterTlsConfig> cluster(String at, JsonNode node) {
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isObject()) {
      fields.problem(
          at,
          node,
          "a mapping with trustedCertificates, serverName, insecureSkipVerify (each optional)");
      return Optional.empty();
    }
    fields.onlyKeys(
        at + ".", node, Set.of("trustedCertificates", "serverName", "insecureSkipVerify"));
    Optional<Path> trusted = Optional.empty();
    JsonNode trustedNode = node.get("trustedCertificates");
    if (trustedNode != null && !trustedNode.isNull()) {
      Path file =
          fields.absolutePath(
              at + ".trustedCertificates", trustedNode, "a PEM file of CA certificates");
      if (file != null) {
        try {
          PemFiles.certificates(file);
          trusted = Optional.of(file);
        } catch (PemFiles.PemException e) {
          fields.problem(
              at + ".trustedCertificates",
              trustedNode,
              "a readable PEM certificate file",
              e.getMessage());
        }
      }
    }
    String serverName = fields.text(at + ".serverName", node.get("serverName"), null);
    if (serverName != null
        && !serverName.matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")) {
      fields.problem(
          at + ".serverName", node.get("serverName"), "a DNS name such as backend.internal");
      serverName = null;
    }
    boolean insecure =
        fields.bool(at + ".insecureSkipVerify", node.get("insecureSkipVerify"), false);
    if (insecure && trustedNode != null) {
      fields.problem(
          at + ".insecureSkipVerify",
          node.get("insecureSkipVerify"),
          "false when trustedCertificates is set (one says check against them, the other says check"
              + " nothing)");
    }
    return Optional.of(new ClusterTlsConfig(trusted, Optional.ofNullable(serverName), insecure));
  }
}
