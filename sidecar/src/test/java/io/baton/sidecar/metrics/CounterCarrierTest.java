package io.baton.sidecar.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.handoff.CarriedCounter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CounterCarrierTest {

  private static double requests2xx(BatonMetrics m) {
    return m.registry().get("baton.requests").tags("listener", "web", "code_class", "2xx").counter().count();
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

  @Test
  void aCounterOnlyThePredecessorHadIsCreatedWithItsTagsAndDescription() {
    BatonMetrics next = new BatonMetrics();
    next.carrier().continueFrom(List.of(
        new CarriedCounter("baton.upstream.errors", Map.of("cluster", "gone", "reason", "connect_refused"), 3, "errors")));

    assertThat(next.scrape()).contains("baton_upstream_errors_total{cluster=\"gone\",reason=\"connect_refused\"} 3.0");
  }

  @Test
  void aFinalValueBelowTheOneCarriedAddsNothing() {
    BatonMetrics next = new BatonMetrics();
    CarriedCounter at = new CarriedCounter("baton.handoffs", Map.of("result", "success"), 4, "");
    next.carrier().continueFrom(List.of(at));
    next.carrier().predecessorFinished(List.of(new CarriedCounter("baton.handoffs", Map.of("result", "success"), 1, "")));

    assertThat(next.registry().get("baton.handoffs").tags("result", "success").counter().count()).isEqualTo(4);
  }

  @Test
  void requestsOfAPredecessorWithoutTheProtocolLabelContinueTheHttp1Series() {
    BatonMetrics next = new BatonMetrics();
    next.listener("web").requestStarted();
    next.listener("web").requestFinished(200);
    // What a generation older than the protocol label sends (roll-forward across the change).
    next.carrier().continueFrom(List.of(new CarriedCounter("baton.requests", Map.of("listener", "web", "code_class", "2xx"), 5, "")));

    assertThat(next.registry().get("baton.requests").tags("listener", "web", "code_class", "2xx", "protocol", "http1")
        .counter().count()).isEqualTo(6);
  }
}
