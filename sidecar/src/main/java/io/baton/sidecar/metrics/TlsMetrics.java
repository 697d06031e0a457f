package io.baton.sidecar.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The TLS metrics of one listener: {@code baton_tls_handshakes_total{listener,result}} and {@code
 * baton_tls_resumptions_total{listener}}. Counters, so they continue across handoffs like the rest.
 */
public final class TlsMetrics {

  private final Counter ok;
  private final Counter failed;
  private final Counter resumed;

  TlsMetrics(MeterRegistry registry, String listener) {
    ok = handshakes(registry, listener, "ok");
    failed = handshakes(registry, listener, "failed");
    resumed =
        Counter.builder("baton.tls.resumptions")
            .description(
                "TLS handshakes that resumed a session (a ticket from this or an earlier"
                    + " generation)")
            .tag("listener", listener)
            .register(registry);
  }

  private static Counter handshakes(MeterRegistry registry, String listener, String result) {
    return Counter.builder("baton.tls.handshakes")
        .description("TLS handshakes with clients, by result")
        .tag("listener", listener)
        .tag("result", result)
        .register(registry);
  }

  /**
   * A handshake completed; {@code resumedSession}: it resumed a session instead of a full
   * handshake.
   */
  public void handshakeSucceeded(boolean resumedSession) {
    ok.increment();
    if (resumedSession) {
      resumed.increment();
    }
  }

  public void handshakeFailed() {
    failed.increment();
  }
}
