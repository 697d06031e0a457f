package io.baton.sidecar.tls;

import io.baton.sidecar.config.ListenerTlsConfig;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import javax.net.ssl.SSLException;

/** Builds the OpenSSL context a TLS listener serves with. */
public final class ServerTls {

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
      context = SslContextBuilder.forServer(config.certificate().toFile(), config.privateKey().toFile())
          .sslProvider(SslProvider.OPENSSL)
          .applicationProtocolConfig(AlpnProtocols.config())
          .build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new TlsSetupException(what + ": certificate " + config.certificate() + " with key " + config.privateKey()
          + " (expected a PEM certificate and its PKCS#8 key): " + e.getMessage(), e);
    }
    // Setting keys also turns tickets on (Netty builds its contexts with SSL_OP_NO_TICKET).
    ((ReferenceCountedOpenSslContext) context).sessionContext().setTicketKeys(keys.toOpenSsl());
    return context;
  }
}
