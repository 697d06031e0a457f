package io.baton.sidecar.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * TLS to a cluster's members: Baton is the TLS client of every upstream connection.
 *
 * @param trustedCertificates PEM file of the CA (or self-signed) certificates a member's
 *     certificate must chain to; empty: the JVM's default trust store
 * @param serverName the name sent as SNI and checked against the member's certificate; empty: the
 *     member's host (a name, or an IP address checked against the certificate's IP entries)
 * @param insecureSkipVerify accept any certificate, unchecked (tests, never production)
 */
public record ClusterTlsConfig(
    Optional<Path> trustedCertificates, Optional<String> serverName, boolean insecureSkipVerify) {

  /** TLS that checks members against the JVM's trust store and their own host names. */
  public static ClusterTlsConfig verifyingDefaults() {
    return new ClusterTlsConfig(Optional.empty(), Optional.empty(), false);
  }
}
