package io.baton.sidecar.config;

import java.net.InetSocketAddress;

/**
 * A numeric or named host and a port, as written in the config ({@code 127.0.0.1:8080}, {@code
 * [::1]:80}).
 */
public record HostPort(String host, int port) {

  /**
   * Parses {@code host:port}; IPv6 literals go in brackets.
   *
   * @throws IllegalArgumentException naming the value and the expected form
   */
  public static HostPort parse(String text) {
    String expected = " (expected host:port such as 127.0.0.1:8080 or [::1]:8080)";
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("\"" + text + "\"" + expected);
    }
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException("\"" + text + "\"" + expected);
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new IllegalArgumentException("\"" + text + "\"" + expected);
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("\"" + text + "\"" + expected);
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("\"" + text + "\" (expected a port from 0 to 65535)");
    }
    return new HostPort(host, port);
  }

  public InetSocketAddress toSocketAddress() {
    return new InetSocketAddress(host, port);
  }

  @Override
  public String toString() {
    return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
  }
}
