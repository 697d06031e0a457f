package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.process.BatonConfigFile;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A handoff to a config with other listeners: kept ones are inherited, new ones bound, gone ones
 * closed.
 */
@Timeout(180)
@ExtendWith(DumpLogsOnFailure.class)
class ListenerSetChangeTest {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private final BatonFixture fixture = new BatonFixture();
  private final TestUpstream upstream = TestUpstream.start(0);

  @AfterEach
  void cleanUp() {
    fixture.close();
    upstream.close();
  }

  @Test
  void keptListenerIsInheritedNewOneIsBoundAndRemovedOneIsClosed() throws Exception {
    String backend = "127.0.0.1:" + upstream.port();
    Path first =
        config("gen1")
            .httpListener("web", "127.0.0.1:0", "b")
            .httpListener("retired", "127.0.0.1:0", "b")
            .cluster("b", backend)
            .write();
    BatonProcess one = fixture.start(first);
    ServingLine gen1 = one.awaitServing(WAIT);
    InetSocketAddress retired = gen1.listener("retired");

    Path second =
        config("gen2")
            .httpListener("web", "127.0.0.1:0", "b")
            .httpListener("fresh", "127.0.0.1:0", "b")
            .cluster("b", backend)
            .write();
    BatonProcess two = fixture.start(second);
    ServingLine gen2 = two.awaitServing(WAIT);
    assertThat(one.awaitExit(WAIT)).isZero();

    assertThat(gen2.listener("web"))
        .as("inherited: same socket, same port")
        .isEqualTo(gen1.listener("web"));
    assertThat(gen2.listeners()).doesNotContainKey("retired");
    assertThat(two.stderrText())
        .contains("listener web (127.0.0.1:0, http) inherited")
        .contains("listener fresh (127.0.0.1:0, http) bound fresh")
        .contains(
            "listener retired (127.0.0.1:0) exists only in the previous generation's config:"
                + " closed");
    for (String name : new String[] {"web", "fresh"}) {
      try (RawHttp http = new RawHttp(gen2.listener(name))) {
        http.send("GET /load/" + name + " HTTP/1.1\r\nHost: t\r\n\r\n");
        assertThat(http.read().status()).isEqualTo(200);
      }
    }
    assertThatThrownBy(
            () -> {
              try (Socket s = new Socket()) {
                s.connect(retired, 2000);
              }
            })
        .as("nobody listens on the retired listener's port any more")
        .isInstanceOf(ConnectException.class);
  }

  private BatonConfigFile config(String subdir) {
    return BatonConfigFile.builder(fixture.dir().resolve(subdir)).runDir(fixture.runDir());
  }
}
