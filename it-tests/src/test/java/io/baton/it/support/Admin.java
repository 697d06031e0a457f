package io.baton.it.support;

import io.baton.testkit.client.RawHttp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a process's admin endpoints over plain HTTP/1.1. */
public final class Admin {

  private Admin() {}

  public static int readyStatus(InetSocketAddress admin) throws IOException {
    return get(admin, "/ready").status();
  }

  public static String metrics(InetSocketAddress admin) throws IOException {
    return get(admin, "/metrics").bodyText();
  }

  /**
   * The value of one sample, e.g. {@code baton_handoffs_total{result="refused"}}; NaN if absent.
   */
  public static double sample(InetSocketAddress admin, String series) throws IOException {
    Matcher m =
        Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE)
            .matcher(metrics(admin));
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  public static RawHttp.Response get(InetSocketAddress admin, String path) throws IOException {
    try (RawHttp http = new RawHttp(admin)) {
      http.send("GET " + path + " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
      return http.read();
    }
  }
}
