package io.baton.sidecar.tls;

import io.baton.sidecar.config.ClusterTlsConfig;
import io.baton.sidecar.config.HostPort;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.util.Optional;
import javax.net.ssl.SSLException;

/**
 * TLS to a cluster's members, or none: Baton is the client of each upstream connection. The
 * member's certificate must chain to the trusted certificates (or the JVM's trust store) and name
 * the server name (or the member's host), unless verification is switched off.
 */
public final class UpstreamTls {

  /** Plain-text upstream connections. */
  public static final UpstreamTls NONE = new UpstreamTls(null, Optional.empty());

  private final SslContext context;
  private final Optional<String> serverName;

  private UpstreamTls(SslContext context, Optional<String> serverName) {
    this.context = context;
    this.serverName = serverName;
  }

  /**
   * The TLS of cluster {@code cluster}; {@link #NONE} when {@code config} is empty.
   *
   * @throws TlsSetupException naming the cluster and the file
   */
  public static UpstreamTls of(String cluster, Optional<ClusterTlsConfig> config) {
    if (config.isEmpty()) {
      return NONE;
    }
    ClusterTlsConfig tls = config.get();
    String what = "cluster " + cluster + " tls";
    OpenSslEngine.ensureAvailable(what);
    SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL);
    if (tls.insecureSkipVerify()) {
      builder.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
    } else {
      tls.trustedCertificates().ifPresent(file -> builder.trustManager(file.toFile()));
      // The member's certificate must name it: SslHandler's peer host (serverName, or the member's host).
      builder.endpointIdentificationAlgorithm("HTTPS");
    }
    try {
      return new UpstreamTls(builder.build(), tls.serverName());
    } catch (SSLException | IllegalArgumentException e) {
      throw new TlsSetupException(what + ": trustedCertificates " + tls.trustedCertificates().map(Object::toString).orElse("(JVM default)")
          + " (expected PEM CA certificates): " + e.getMessage(), e);
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
}
