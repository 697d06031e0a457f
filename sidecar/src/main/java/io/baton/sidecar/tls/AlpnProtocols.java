package io.baton.sidecar.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import java.util.List;

/**
 * What a TLS listener offers in ALPN, in the server's order of preference: {@code h2} (the HTTP/2
 * frontend, {@code io.baton.sidecar.http2.Http2Frontend}), then {@code http/1.1}. {@code
 * io.baton.sidecar.httpserver.AlpnSeam} installs the pipeline of what was chosen; a protocol added
 * here needs a case there.
 */
public final class AlpnProtocols {

  /** Used when the client offers no ALPN, or nothing we offer. */
  public static final String FALLBACK = ApplicationProtocolNames.HTTP_1_1;

  private AlpnProtocols() {}

  /** The protocols a TLS listener advertises, preferred first. */
  public static List<String> advertised() {
    return List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
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
