package io.baton.sidecar.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Which series a listener exports before it has served anything: a dashboard panel or an alert on a
 * series that is not scraped stays empty (and DeployMetricsTest fails), and {@code rate()} needs a
 * first sample at 0 to count the first stream or handshake.
 */
@Timeout(10)
class ListenerMetricsTest {

  @Test
  void anHttpListenerExportsEveryHttp2SeriesAtZeroBeforeItsFirstStream() {
    BatonMetrics metrics = new BatonMetrics();
    metrics.listener("web").exportHttp2();

    String scrape = metrics.scrape();
    for (String codeClass : new String[] {"other", "1xx", "2xx", "3xx", "4xx", "5xx"}) {
      assertThat(scrape)
          .contains(
              "baton_requests_total{code_class=\""
                  + codeClass
                  + "\",listener=\"web\",protocol=\"h2\"} 0.0");
      assertThat(scrape)
          .contains(
              "baton_requests_total{code_class=\""
                  + codeClass
                  + "\",listener=\"web\",protocol=\"http1\"} 0.0");
    }
    assertThat(scrape)
        .contains("baton_requests_active{listener=\"web\",protocol=\"h2\"} 0.0")
        .contains("baton_requests_active{listener=\"web\",protocol=\"http1\"} 0.0")
        .contains("baton_http2_goaway_sent_total{listener=\"web\",phase=\"first\"} 0.0")
        .contains("baton_http2_goaway_sent_total{listener=\"web\",phase=\"final\"} 0.0")
        .contains("baton_http2_streams_refused_total{listener=\"web\"} 0.0")
        .contains("baton_http2_drain_streams_completed_total{listener=\"web\"} 0.0");
  }

  @Test
  void aListenerThatIsNotHttpExportsNoHttp2Series() {
    BatonMetrics metrics = new BatonMetrics();
    metrics.listener("db");

    assertThat(metrics.scrape()).doesNotContain("protocol=\"h2\"").doesNotContain("baton_http2_");
  }

  @Test
  void theSeriesRegisteredAtZeroAreTheOnesStreamsAndDrainsCount() {
    BatonMetrics metrics = new BatonMetrics();
    ListenerMetrics web = metrics.listener("web");
    web.exportHttp2();
    web.exportHttp2(); // a second call (idempotent) registers nothing new and resets nothing

    web.streamStarted();
    assertThat(web.requestsActive()).isEqualTo(1);
    web.streamFinished(200);
    web.streamStarted();
    web.streamFinished(0);
    web.http2GoawaySent("first");
    web.http2GoawaySent("final");
    web.http2GoawaySent("final");
    web.http2StreamRefused();
    web.http2StreamCompletedDuringDrain();

    String scrape = metrics.scrape();
    assertThat(scrape)
        .contains("baton_requests_total{code_class=\"2xx\",listener=\"web\",protocol=\"h2\"} 1.0")
        .contains("baton_requests_total{code_class=\"other\",listener=\"web\",protocol=\"h2\"} 1.0")
        .contains("baton_requests_active{listener=\"web\",protocol=\"h2\"} 0.0")
        .contains("baton_http2_goaway_sent_total{listener=\"web\",phase=\"first\"} 1.0")
        .contains("baton_http2_goaway_sent_total{listener=\"web\",phase=\"final\"} 2.0")
        .contains("baton_http2_streams_refused_total{listener=\"web\"} 1.0")
        .contains("baton_http2_drain_streams_completed_total{listener=\"web\"} 1.0");
    assertThat(web.requestsActive()).isZero();
  }

  @Test
  void aTlsListenerExportsItsHandshakeSeriesAtZero() {
    BatonMetrics metrics = new BatonMetrics();
    metrics.tls("secure");

    assertThat(metrics.scrape())
        .contains("baton_tls_handshakes_total{listener=\"secure\",result=\"ok\"} 0.0")
        .contains("baton_tls_handshakes_total{listener=\"secure\",result=\"failed\"} 0.0")
        .contains("baton_tls_resumptions_total{listener=\"secure\"} 0.0");
  }

  @Test
  void everyProcessExportsPredecessorsDrainingAndTlsUpstreamErrorsOfItsClusters() {
    BatonMetrics metrics = new BatonMetrics();
    metrics.cluster("backend");

    assertThat(metrics.scrape())
        .contains("baton_predecessors_draining 0.0")
        .contains(
            "baton_upstream_errors_total{cluster=\"backend\",reason=\"tls_handshake_failed\"} 0.0");
  }
}
