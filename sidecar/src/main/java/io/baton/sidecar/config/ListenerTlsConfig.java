package io.baton.sidecar.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS on a listener: Baton terminates it with this certificate and key, read when the process
 * starts (a handoff re-reads them: that is how a certificate is rotated).
 *
 * @param certificate PEM file: the server certificate first, then its intermediates
 * @param privateKey PEM file: the certificate's private key, unencrypted PKCS#8 ({@code BEGIN
 *     PRIVATE KEY}), RSA or EC
 */
public record ListenerTlsConfig(Path certificate, Path privateKey) {
  public ListenerTlsConfig {
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(privateKey, "privateKey");
  }
}
