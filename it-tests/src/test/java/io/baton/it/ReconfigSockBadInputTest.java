package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.ControlProbe;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.RefusalReason;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.io.File;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * Bad input on {@code reconfig.sock} while clients are served (issue 16): an oversized frame
 * length, a frame cut short by the peer's EOF, and a connection that opens and never speaks. Each
 * gets a typed refusal or a close, a log line naming the peer and a counter; the keep-alive load
 * sees no failure, and a proper handoff works afterwards. Garbage bytes and a wrong version are
 * HandoffRefusalTest's; what ControlChannel reads from any bytes is ControlChannelFuzzTest's.
 */
@Timeout(240)
@ExtendWith(DumpLogsOnFailure.class)
class ReconfigSockBadInputTest {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String PEER = "peer pid " + ProcessHandle.current().pid() + " ";

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;
  private Path config;
  private BatonProcess active;
  private ServingLine serving;

  @BeforeEach
  void startFirstGeneration() {
    upstream = TestUpstream.start(0);
    config =
        fixture
            .config()
            .httpListener("web", "127.0.0.1:0", "backend")
            .cluster("backend", "127.0.0.1:" + upstream.port())
            .write();
    active = fixture.start(config);
    serving = active.awaitServing(WAIT);
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
    upstream.close();
  }

  @Test
  void oversizedTruncatedAndSilentPeersAreTurnedAwayWhileTheLoadGoesOn() throws Exception {
    InetSocketAddress web = serving.listener("web");
    LoadClient load =
        LoadClient.builder(web.getHostString(), web.getPort())
            .workers(8)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .maxDuration(Duration.ofMinutes(2))
            .build();
    load.start();
    try {
      // A length of 2 GiB - 1: refused before any body is read or allocated.
      Envelope reply =
          ControlProbe.exchange(
              fixture.reconfigSock(), new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
      assertThat(reply.getRefusal().getReason()).isEqualTo(RefusalReason.MALFORMED_MESSAGE);
      assertThat(reply.getRefusal().getDetail())
          .contains("frame length: 2147483647 (expected: <= 1048576)");
      assertThat(active.awaitLogLine("MALFORMED_MESSAGE (frame length: 2147483647", WAIT))
          .contains(PEER);

      // 100 bytes announced, 10 sent, then EOF: the session ends, nothing is answered.
      try (AFUNIXSocket truncated = connect()) {
        OutputStream out = truncated.getOutputStream();
        out.write(new byte[] {0, 0, 0, 100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        out.flush();
        truncated.shutdownOutput();
        assertThat(truncated.getInputStream().read()).as("closed without a reply").isEqualTo(-1);
      }
      assertThat(active.awaitLogLine("peer closed before Hello", WAIT))
          .contains(PEER)
          .contains("still serving");

      // Connected, never a byte: closed after handoff.stepTimeout (10 s by default).
      try (AFUNIXSocket silent = connect()) {
        silent.setSoTimeout((int) WAIT.toMillis());
        assertThat(silent.getInputStream().read()).as("closed without a reply").isEqualTo(-1);
      }
      assertThat(active.awaitLogLine("no Hello within", WAIT))
          .contains(PEER)
          .contains("still serving");

      assertThat(Admin.sample(serving.admin(), "baton_handoffs_total{result=\"refused\"}"))
          .isEqualTo(1.0);
      assertThat(Admin.sample(serving.admin(), "baton_handoffs_total{result=\"failed\"}"))
          .isEqualTo(2.0);
      assertThat(Admin.readyStatus(serving.admin())).isEqualTo(200);
      long before = load.result().ok();
      await().atMost(WAIT).until(() -> load.result().ok() > before + 200);
    } finally {
      load.stop();
    }
    LoadResult result = load.awaitResult(WAIT);
    assertThat(result.failed())
        .as("failures while reconfig.sock got bad input: %s", result)
        .isZero();

    // Nothing changed on the active side: a proper handoff still works.
    BatonProcess next = fixture.start(config);
    assertThat(next.awaitServing(WAIT).generation()).isEqualTo(2);
    assertThat(active.awaitExit(WAIT)).isZero();
  }

  private AFUNIXSocket connect() throws Exception {
    AFUNIXSocket socket = AFUNIXSocket.newInstance();
    socket.connect(AFUNIXSocketAddress.of(new File(fixture.reconfigSock().toString())), 5000);
    socket.setSoTimeout(15_000);
    return socket;
  }
}
