package io.baton.sidecar.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import java.util.List;

/**
 * What a TLS listener offers in ALPN, in the server's order of preference. The one place where
 * {@code h2} is added once the HTTP/2 frontend serves it ({@link AlpnSeam} installs it).
 */
public final class AlpnProtocols {

  /** Used when the client offers no ALPN, or nothing we offer. */
  public static final String FALLBACK = ApplicationProtocolNames.HTTP_1_1;

  private AlpnProtocols() {}

  /** The protocols a TLS listener advertises, preferred first. */
  public static List<String> advertised() {
    // h2 goes first here once io.baton.sidecar.http2 serves it (branch http2): then AlpnSeam
    // installs the HTTP/2 frontend for it.
    return List.of(ApplicationProtocolNames.HTTP_1_1);
  }

  /**
   * ALPN as OpenSSL does it: no overlap means no ALPN answer (the client goes on with HTTP/1.1)
   * rather than a failed handshake.
   */
  static ApplicationProtocolConfig config() {
    return new ApplicationProtocolConfig(
        ApplicationProtocolConfig.Protocol.ALPN,
        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
        advertised());
  }
}
