package io.baton.sidecar.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.handoff.CarriedCounter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CounterCarrierTest {

  private static double requests2xx(BatonMetrics m) {
    return m.registry()
        .get("baton.requests")
        .tags("listener", "web", "code_class", "2xx")
        .counter()
        .count();
  }

  @Test
  void aSuccessorContinuesFromThePredecessorsCountsPlusWhatItCountedDuringTheDrain() {
    BatonMetrics old = new BatonMetrics();
    ListenerMetrics oldWeb = old.listener("web");
    for (int i = 0; i < 40; i++) {
      oldWeb.requestStarted();
      oldWeb.requestFinished(200);
    }
    BatonMetrics next = new BatonMetrics();
    next.carrier().continueFrom(old.carrier().snapshot());
    assertThat(requests2xx(next)).isEqualTo(40);

    // Both count meanwhile: the old one finishes what it had in flight, the new one serves.
    for (int i = 0; i < 2; i++) {
      oldWeb.requestStarted();
      oldWeb.requestFinished(200);
    }
    ListenerMetrics nextWeb = next.listener("web");
    for (int i = 0; i < 5; i++) {
      nextWeb.requestStarted();
      nextWeb.requestFinished(200);
    }
    next.carrier().predecessorFinished(old.carrier().snapshot());

    assertThat(requests2xx(next)).isEqualTo(40 + 2 + 5);
  }

  @Test
  void growthReportedWhenThePredecessorStoppedAcceptingIsAddedOnceNotAgainAtTheEnd() {
    BatonMetrics old = new BatonMetrics();
    ListenerMetrics oldWeb = old.listener("web");
    oldWeb.requestStarted();
    oldWeb.requestFinished(200);
    BatonMetrics next = new BatonMetrics();
    next.carrier().continueFrom(old.carrier().snapshot());

    // Between Listeners and Draining the old process serves on: 30 more.
    for (int i = 0; i < 30; i++) {
      oldWeb.requestStarted();
      oldWeb.requestFinished(200);
    }
    next.carrier().predecessorStoppedAccepting(old.carrier().snapshot());
    assertThat(requests2xx(next)).as("before this process's admin listener accepts").isEqualTo(31);

    oldWeb.requestStarted(); // in flight when it stopped accepting, answered during the drain
    oldWeb.requestFinished(200);
    next.carrier().predecessorFinished(old.carrier().snapshot());

    assertThat(requests2xx(next)).isEqualTo(32);
  }

  /**
   * Chained drains: generation 1 still drains when generation 2 hands over to 3. Its late requests
   * reach 2 (when it finishes) and travel on inside 2's final counters to 3, each counted once.
   */
  @Test
  void aChainOfThreeGenerationsCountsEveryRequestOnceWhenTheOldestFinishesLast() {
    BatonMetrics first = new BatonMetrics();
    ListenerMetrics firstWeb = first.listener("web");
    serve(firstWeb, 10);
    BatonMetrics second = new BatonMetrics();
    second.carrier().continueFrom(first.carrier().snapshot());
    second.carrier().predecessorStoppedAccepting(first.carrier().snapshot());
    serve(second.listener("web"), 5);

    BatonMetrics third = new BatonMetrics();
    third.carrier().continueFrom(second.carrier().snapshot());
    third.carrier().predecessorStoppedAccepting(second.carrier().snapshot());
    assertThat(requests2xx(third)).isEqualTo(15);
    serve(third.listener("web"), 7);
    serve(firstWeb, 3); // the long request(s) on generation 1 end during the chain

    second.carrier().predecessorFinished(first.carrier().snapshot()); // 1 -> 2
    third.carrier().predecessorFinished(second.carrier().snapshot()); // then 2 -> 3, carrying 1's

    assertThat(requests2xx(third)).as("10 + 5 + 7 + 3: none lost, none twice").isEqualTo(25);
  }

  private static void serve(ListenerMetrics web, int requests) {
    for (int i = 0; i < requests; i++) {
      web.requestStarted();
      web.requestFinished(200);
    }
  }

  @Test
  void aCounterOnlyThePredecessorHadIsCreatedWithItsTagsAndDescription() {
    BatonMetrics next = new BatonMetrics();
    next.carrier()
        .continueFrom(
            List.of(
                new CarriedCounter(
                    "baton.upstream.errors",
                    Map.of("cluster", "gone", "reason", "connect_refused"),
                    3,
                    "errors")));

    assertThat(next.scrape())
        .contains("baton_upstream_errors_total{cluster=\"gone\",reason=\"connect_refused\"} 3.0");
  }

  @Test
  void aFinalValueBelowTheOneCarriedAddsNothing() {
    BatonMetrics next = new BatonMetrics();
    CarriedCounter at = new CarriedCounter("baton.handoffs", Map.of("result", "success"), 4, "");
    next.carrier().continueFrom(List.of(at));
    next.carrier()
        .predecessorFinished(
            List.of(new CarriedCounter("baton.handoffs", Map.of("result", "success"), 1, "")));

    assertThat(next.registry().get("baton.handoffs").tags("result", "success").counter().count())
        .isEqualTo(4);
  }

  @Test
  void requestsOfAPredecessorWithoutTheProtocolLabelContinueTheHttp1Series() {
    BatonMetrics next = new BatonMetrics();
    next.listener("web").requestStarted();
    next.listener("web").requestFinished(200);
    // What a generation older than the protocol label sends (roll-forward across the change).
    next.carrier()
        .continueFrom(
            List.of(
                new CarriedCounter(
                    "baton.requests", Map.of("listener", "web", "code_class", "2xx"), 5, "")));

    assertThat(
            next.registry()
                .get("baton.requests")
                .tags("listener", "web", "code_class", "2xx", "protocol", "http1")
                .counter()
                .count())
        .isEqualTo(6);
  }

  private static double count(BatonMetrics m, String name, String... tags) {
    return m.registry().get(name).tags(tags).counter().count();
  }

  /**
   * Both generations register the h2 and TLS series at 0 when their listeners are created: the
   * successor's (created after continueFrom, as SidecarServer does, or before) and the carried ones
   * are one series, and the zeros the predecessor reports add nothing.
   */
  @Test
  void seriesRegisteredAtZeroOnBothSidesContinueOnceAcrossAHandoff() {
    BatonMetrics old = new BatonMetrics();
    ListenerMetrics oldWeb = old.listener("web");
    oldWeb.exportHttp2();
    TlsMetrics oldTls = old.tls("secure");
    old.listener("secure").exportHttp2();
    for (int i = 0; i < 4; i++) {
      oldWeb.streamStarted();
      oldWeb.streamFinished(200);
    }
    oldTls.handshakeSucceeded(false);
    oldTls.handshakeFailed();

    BatonMetrics next = new BatonMetrics();
    next.listener("secure").exportHttp2(); // registered before the carried counters arrive
    next.tls("secure");
    next.carrier().continueFrom(old.carrier().snapshot());
    next.listener("web").exportHttp2(); // and after them, as SidecarServer does
    next.carrier().predecessorStoppedAccepting(old.carrier().snapshot());
    assertThat(
            count(next, "baton.requests", "listener", "web", "protocol", "h2", "code_class", "2xx"))
        .isEqualTo(4);
    assertThat(count(next, "baton.http2.goaway.sent", "listener", "web", "phase", "first"))
        .isZero();

    // The old generation drains: GOAWAYs, a stream refused, two that complete; the new one serves.
    oldWeb.http2GoawaySent("first");
    oldWeb.http2GoawaySent("final");
    oldWeb.http2StreamRefused();
    for (int i = 0; i < 2; i++) {
      oldWeb.streamStarted();
      oldWeb.http2StreamCompletedDuringDrain();
      oldWeb.streamFinished(200);
    }
    ListenerMetrics nextWeb = next.listener("web");
    nextWeb.streamStarted();
    nextWeb.streamFinished(200);
    next.tls("secure").handshakeSucceeded(true);
    next.carrier().predecessorFinished(old.carrier().snapshot());

    assertThat(
            count(next, "baton.requests", "listener", "web", "protocol", "h2", "code_class", "2xx"))
        .as("4 + 2 + 1")
        .isEqualTo(7);
    assertThat(
            count(next, "baton.requests", "listener", "web", "protocol", "h2", "code_class", "5xx"))
        .isZero();
    assertThat(count(next, "baton.http2.goaway.sent", "listener", "web", "phase", "first"))
        .isEqualTo(1);
    assertThat(count(next, "baton.http2.goaway.sent", "listener", "web", "phase", "final"))
        .isEqualTo(1);
    assertThat(count(next, "baton.http2.streams.refused", "listener", "web")).isEqualTo(1);
    assertThat(count(next, "baton.http2.drain.streams.completed", "listener", "web")).isEqualTo(2);
    assertThat(count(next, "baton.http2.goaway.sent", "listener", "secure", "phase", "final"))
        .isZero();
    assertThat(count(next, "baton.tls.handshakes", "listener", "secure", "result", "ok"))
        .isEqualTo(2);
    assertThat(count(next, "baton.tls.handshakes", "listener", "secure", "result", "failed"))
        .isEqualTo(1);
    assertThat(count(next, "baton.tls.resumptions", "listener", "secure")).isEqualTo(1);
    assertThat(next.scrape())
        .as("one series each, not a second one with the carried description")
        .containsOnlyOnce("baton_http2_streams_refused_total{listener=\"web\"}")
        .containsOnlyOnce("baton_tls_resumptions_total{listener=\"secure\"}");
  }

  /**
   * Chained drains with the zero series: the oldest's late GOAWAYs reach the third generation once.
   */
  @Test
  void zeroSeriesInAChainOfThreeGenerationsCountEveryGoawayOnce() {
    BatonMetrics first = new BatonMetrics();
    first.listener("web").exportHttp2();
    BatonMetrics second = new BatonMetrics();
    second.carrier().continueFrom(first.carrier().snapshot());
    second.listener("web").exportHttp2();
    second.carrier().predecessorStoppedAccepting(first.carrier().snapshot());
    first.listener("web").http2GoawaySent("first");
    second.listener("web").http2GoawaySent("first"); // a handoff during the drain of 1

    BatonMetrics third = new BatonMetrics();
    third.carrier().continueFrom(second.carrier().snapshot());
    third.listener("web").exportHttp2();
    third.carrier().predecessorStoppedAccepting(second.carrier().snapshot());
    first.listener("web").http2GoawaySent("final");
    second.carrier().predecessorFinished(first.carrier().snapshot());
    second.listener("web").http2GoawaySent("final");
    third.carrier().predecessorFinished(second.carrier().snapshot());

    assertThat(count(third, "baton.http2.goaway.sent", "listener", "web", "phase", "first"))
        .isEqualTo(2);
    assertThat(count(third, "baton.http2.goaway.sent", "listener", "web", "phase", "final"))
        .isEqualTo(2);
  }
}
