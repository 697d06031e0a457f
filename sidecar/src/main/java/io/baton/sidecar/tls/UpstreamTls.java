package io.baton.sidecar.tls;

import io.baton.sidecar.config.ClusterTlsConfig;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.UpstreamProtocol;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.util.Optional;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * TLS to a cluster's members, or none: Baton is the client of each upstream connection. The
 * member's certificate must chain to the trusted certificates (or the JVM's trust store) and name
 * the server name (or the member's host), unless verification is switched off. An {@code h2}
 * cluster offers ALPN {@code h2} only, and a member that does not select it fails as a failed
 * handshake does ({@link #checkNegotiated}).
 */
public final class UpstreamTls {

  /** Plain-text upstream connections. */
  public static final UpstreamTls NONE = new UpstreamTls(null, Optional.empty(), null);

  private final SslContext context;
  private final Optional<String> serverName;

  /** The ALPN protocol the member must select, or null (HTTP/1.1 clusters offer no ALPN). */
  private final String requiredAlpn;

  private UpstreamTls(SslContext context, Optional<String> serverName, String requiredAlpn) {
    this.context = context;
    this.serverName = serverName;
    this.requiredAlpn = requiredAlpn;
  }

  /** The TLS of an HTTP/1.1 cluster {@code cluster}: no ALPN offered. */
  public static UpstreamTls of(String cluster, Optional<ClusterTlsConfig> config) {
    return of(cluster, config, UpstreamProtocol.HTTP1);
  }

  /**
   * The TLS of cluster {@code cluster} whose members speak {@code protocol}; {@link #NONE} when
   * {@code config} is empty. For {@link UpstreamProtocol#H2} the context offers ALPN {@code h2}
   * only.
   *
   * @throws TlsSetupException naming the cluster and the file
   */
  public static UpstreamTls of(
      String cluster, Optional<ClusterTlsConfig> config, UpstreamProtocol protocol) {
    if (config.isEmpty()) {
      return NONE;
    }
    ClusterTlsConfig tls = config.get();
    String what = "cluster " + cluster + " tls";
    OpenSslEngine.ensureAvailable(what);
    SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL);
    if (tls.insecureSkipVerify()) {
      builder
          .trustManager(InsecureTrustManagerFactory.INSTANCE)
          .endpointIdentificationAlgorithm(null);
    } else {
      tls.trustedCertificates().ifPresent(file -> builder.trustManager(file.toFile()));
      // The member's certificate must name it: SslHandler's peer host (serverName, or the member's
      // host).
      builder.endpointIdentificationAlgorithm("HTTPS");
    }
    String requiredAlpn = null;
    if (protocol == UpstreamProtocol.H2) {
      requiredAlpn = ApplicationProtocolNames.HTTP_2;
      builder.applicationProtocolConfig(h2Only());
    }
    try {
      return new UpstreamTls(builder.build(), tls.serverName(), requiredAlpn);
    } catch (SSLException | IllegalArgumentException e) {
      throw new TlsSetupException(
          what
              + ": trustedCertificates "
              + tls.trustedCertificates().map(Object::toString).orElse("(JVM default)")
              + " (expected PEM CA certificates): "
              + e.getMessage(),
          e);
    }
  }

  public boolean enabled() {
    return context != null;
  }

  /**
   * A client-side TLS handler for a connection to {@code endpoint}: SNI and the name checked are
   * the configured server name, else the endpoint's host (an IP address is not sent as SNI and is
   * checked against the certificate's IP entries).
   */
  public SslHandler newHandler(ByteBufAllocator alloc, HostPort endpoint) {
    if (context == null) {
      throw new IllegalStateException("plain-text cluster: no TLS handler");
    }
    return context.newHandler(alloc, serverName.orElse(endpoint.host()), endpoint.port());
  }

  /**
   * Why the finished handshake of {@code ssl} cannot carry this cluster's protocol, or null when it
   * can: an h2 member must have selected ALPN {@code h2} (a server without ALPN, or one that chose
   * http/1.1, would take the HTTP/2 preface as garbage).
   */
  public SSLHandshakeException checkNegotiated(SslHandler ssl) {
    if (requiredAlpn == null) {
      return null;
    }
    String selected = ssl.applicationProtocol();
    if (requiredAlpn.equals(selected)) {
      return null;
    }
    return new SSLHandshakeException(
        "ALPN: member selected "
            + (selected == null ? "no protocol" : "\"" + selected + "\"")
            + " (expected \""
            + requiredAlpn
            + "\" for an h2 cluster)");
  }

  /**
   * ALPN offering {@code h2} alone. OpenSSL as client: a server answering anything else (or no ALPN
   * at all) is caught by {@link #checkNegotiated}, whatever the failure behaviours say.
   */
  private static ApplicationProtocolConfig h2Only() {
    return new ApplicationProtocolConfig(
        ApplicationProtocolConfig.Protocol.ALPN,
        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
        ApplicationProtocolNames.HTTP_2);
  }
}
