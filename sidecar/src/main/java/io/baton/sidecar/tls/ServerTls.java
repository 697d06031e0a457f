package io.baton.sidecar.tls;

import io.baton.sidecar.config.ListenerTlsConfig;
import io.baton.sidecar.config.PemFiles;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HexFormat;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the OpenSSL context a TLS listener serves with. */
public final class ServerTls {

  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

  private ServerTls() {}

  /**
   * The context of listener {@code name}: its certificate and key read from the files now (a
   * handoff re-reads them), ALPN from {@link AlpnProtocols}, session tickets under {@code keys}.
   *
   * @throws TlsSetupException naming the listener and the files
   */
  public static SslContext build(String name, ListenerTlsConfig config, TicketKeyRing keys) {
    String what = "listener " + name + " tls";
    OpenSslEngine.ensureAvailable(what);
    SslContext context;
    try {
      context =
          SslContextBuilder.forServer(config.certificate().toFile(), config.privateKey().toFile())
              .sslProvider(SslProvider.OPENSSL)
              .applicationProtocolConfig(AlpnProtocols.config())
              .build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new TlsSetupException(
          what
              + ": certificate "
              + config.certificate()
              + " with key "
              + config.privateKey()
              + " (expected a PEM certificate and its PKCS#8 key): "
              + e.getMessage(),
          e);
    }
    // Setting keys also turns tickets on (Netty builds its contexts with SSL_OP_NO_TICKET).
    ((ReferenceCountedOpenSslContext) context).sessionContext().setTicketKeys(keys.toOpenSsl());
    describe(name, config);
    return context;
  }

  /**
   * One line per listener at start-up naming the certificate it serves: after a rotation (a
   * handoff) the log says which one the new generation read. An expired one is served (as nginx
   * does) but said loudly.
   */
  private static void describe(String name, ListenerTlsConfig config) {
    try {
      X509Certificate cert = PemFiles.certificates(config.certificate()).get(0);
      // As `openssl x509 -fingerprint -sha256` prints it, to compare by eye.
      String fingerprint =
          HexFormat.ofDelimiter(":")
              .withUpperCase()
              .formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
      Instant notAfter = cert.getNotAfter().toInstant();
      if (notAfter.isBefore(Instant.now())) {
        log.warn(
            "listener {}: TLS certificate {} ({}) EXPIRED at {}: clients that check it will refuse"
                + " it",
            name,
            cert.getSubjectX500Principal().getName(),
            config.certificate(),
            notAfter);
      }
      log.info(
          "listener {}: TLS with {} from {} (valid until {}, SHA-256 {}), ALPN {}",
          name,
          cert.getSubjectX500Principal().getName(),
          config.certificate(),
          notAfter,
          fingerprint,
          AlpnProtocols.advertised());
    } catch (PemFiles.PemException | GeneralSecurityException e) {
      log.info(
          "listener {}: TLS with {} (not described: {})",
          name,
          config.certificate(),
          e.getMessage());
    }
  }
}
