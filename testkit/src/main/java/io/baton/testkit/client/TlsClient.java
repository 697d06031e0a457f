package io.baton.testkit.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * JDK TLS client sockets for the test and demo clients (the JDK's own engine: a client that shares
 * nothing with Baton's OpenSSL).
 */
public final class TlsClient {

  private TlsClient() {}

  /**
   * A client context that trusts exactly the certificates in {@code pem} (e.g. a self-signed one).
   */
  public static SSLContext trusting(Path pem) {
    try {
      List<Certificate> certs = certificates(pem);
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      for (int i = 0; i < certs.size(); i++) {
        store.setCertificateEntry("trusted-" + i, certs.get(i));
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (CertificateException | IOException e) {
      throw new IllegalArgumentException(
          "trusted certificates: \""
              + pem
              + "\" (expected a readable PEM certificate file): "
              + e.getMessage(),
          e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("a TLS client context trusting " + pem + ": " + e, e);
    }
  }

  /** The certificates in the PEM file {@code pem}; the JDK reads PEM, one or several. */
  private static List<Certificate> certificates(Path pem) throws IOException, CertificateException {
    try (InputStream in = Files.newInputStream(pem)) {
      List<Certificate> certs =
          List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
      if (certs.isEmpty()) {
        throw new CertificateException("no certificate in it");
      }
      return certs;
    }
  }

  /**
   * Wraps {@code plain} (connected) in TLS and completes the handshake, sending {@code serverName}
   * as SNI and checking the server's certificate names it.
   */
  public static SSLSocket wrap(SSLContext context, Socket plain, String serverName)
      throws IOException {
    SSLSocket tls =
        (SSLSocket)
            context.getSocketFactory().createSocket(plain, serverName, plain.getPort(), true);
    SSLParameters params = tls.getSSLParameters();
    params.setServerNames(List.of(new SNIHostName(serverName)));
    params.setEndpointIdentificationAlgorithm("HTTPS");
    tls.setSSLParameters(params);
    tls.startHandshake();
    return tls;
  }

  /** Connects to {@code address} and completes a TLS handshake for {@code serverName}. */
  public static SSLSocket connect(SSLContext context, InetSocketAddress address, String serverName)
      throws IOException {
    Socket plain = new Socket();
    try {
      plain.connect(address, 5000);
      plain.setSoTimeout(30_000);
      return wrap(context, plain, serverName);
    } catch (IOException | RuntimeException e) {
      plain.close();
      throw e;
    }
  }
}
