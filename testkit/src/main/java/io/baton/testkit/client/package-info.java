/**
 * Raw protocol clients for tests: {@link io.baton.testkit.client.RawHttp} (HTTP/1.1 over a plain
 * socket, byte for byte), {@link io.baton.testkit.client.RawH2Connection} (HTTP/2 frames by hand,
 * for GOAWAY and bad-input cases) and {@link io.baton.testkit.client.TlsClient} (the JDK's TLS, so
 * a client shares nothing with Baton's OpenSSL).
 */
package io.baton.testkit.client;
