package io.baton.sidecar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServingLineTest {

  private static final String LINE =
      "baton serving generation=2 pid=123 instance=k3xq7m2a9bcdefgh admin=127.0.0.1:9901"
          + " listeners=web=127.0.0.1:8080,raw=[0:0:0:0:0:0:0:1]:8081";

  @Test
  void whatAGenerationPrintsParsesBackIntoTheSameLine() {
    Map<String, InetSocketAddress> listeners = new LinkedHashMap<>();
    listeners.put("web", new InetSocketAddress("127.0.0.1", 8080));
    listeners.put("raw", new InetSocketAddress("::1", 8081));
    ServingLine written =
        new ServingLine(
            2, 123, "k3xq7m2a9bcdefgh", new InetSocketAddress("127.0.0.1", 9901), listeners);

    assertThat(written.line()).isEqualTo(LINE);
    assertThat(ServingLine.parse(LINE)).isEqualTo(written);
    assertThat(ServingLine.parse(LINE).listener("raw"))
        .isEqualTo(new InetSocketAddress("::1", 8081));
  }

  @Test
  void aLineFromABinaryOlderThanTheInstanceIdParsesWithAnEmptyOne() {
    ServingLine old =
        ServingLine.parse(
            "baton serving generation=1 pid=7 admin=127.0.0.1:9901 listeners=web=127.0.0.1:8080");

    assertThat(old.instanceId()).isEmpty();
    assertThat(old.listener("web").getPort()).isEqualTo(8080);
  }

  @Test
  void anotherLineOrAnUnknownListenerIsNamedInTheError() {
    assertThatThrownBy(() -> ServingLine.parse("baton draining"))
        .hasMessage(
            "serving line: \"baton draining\" (expected it to start with \"baton serving \")");
    assertThatThrownBy(() -> ServingLine.parse(LINE).listener("admin"))
        .hasMessage("listener: admin (expected one of [web, raw])");
  }
}
