package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.testkit.client.RawH2Connection;
import io.baton.testkit.client.RawH2Connection.Frame;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestH2Upstream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The two-phase GOAWAY of a drain, seen by a client that ignores GOAWAY and keeps opening streams
 * ({@link RawH2Connection}): the first GOAWAY has last-stream-id 2^31-1 and is followed by a PING;
 * the final one carries the real last stream id. Every stream at or below it is served (never
 * reset), every stream above it gets RST_STREAM(REFUSED_STREAM) and never reaches the upstream.
 */
@Timeout(120)
@ExtendWith(DumpLogsOnFailure.class)
class Http2GoawayTest {

  private static final int MAX_STREAM_ID = Integer.MAX_VALUE;
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final BatonFixture fixture = new BatonFixture();
  private TestH2Upstream upstream;

  @AfterEach
  void cleanUp() {
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void aClientIgnoringGoawayIsRefusedOnlyAboveTheFinalLastStreamId() {
    upstream = TestH2Upstream.start(0, 0);
    Path config =
        fixture
            .config()
            .drainTimeout("60s")
            .http2GoawayDelay("1s")
            .httpListener("web", "127.0.0.1:0", "backend")
            .clusterOfProtocol("backend", "h2c", "127.0.0.1:" + upstream.port())
            .write();
    Generations generations = new Generations(fixture, config);
    InetSocketAddress web = generations.start().listener("web");
    String authority = "127.0.0.1:" + web.getPort();

    List<Integer> sent = new ArrayList<>();
    List<Frame> read = new ArrayList<>();
    try (RawH2Connection c = RawH2Connection.connect(web)) {
      c.handshake(WAIT);
      // Stream 1 stays in flight at the upstream through the whole drain, until released below.
      c.sendGet(1, authority, "/hold/ga-1");
      sent.add(1);
      Awaitility.await().atMost(WAIT).until(() -> upstream.heldRequests() == 1);

      BatonProcess first = generations.handOffWhilePredecessorDrains();

      List<Frame> untilFirstGoaway = c.readUntil(Frame::isGoAway, WAIT);
      read.addAll(untilFirstGoaway);
      Frame firstGoaway = untilFirstGoaway.get(untilFirstGoaway.size() - 1);
      assertThat(firstGoaway.lastStreamId())
          .as("the first GOAWAY announces the drain without a real id")
          .isEqualTo(MAX_STREAM_ID);
      assertThat(firstGoaway.errorCode()).isEqualTo(RawH2Connection.NO_ERROR);

      // Ignoring it: two more streams, before the PING is answered.
      send(c, sent, 3, authority, "");
      send(c, sent, 5, authority, "");
      List<Frame> untilPing =
          c.readUntil(
              f ->
                  f.type() == RawH2Connection.PING && (f.flags() & RawH2Connection.FLAG_ACK) == 0
                      || f.isGoAway(),
              WAIT);
      read.addAll(untilPing);
      assertThat(untilPing.get(untilPing.size() - 1).type())
          .as(
              "a PING follows the first GOAWAY, before the final one; read %s",
              RawH2Connection.summary(untilPing))
          .isEqualTo(RawH2Connection.PING);

      // Keep opening streams until the final GOAWAY arrives (bounded).
      int next = 7;
      Frame finalGoaway = null;
      while (finalGoaway == null && next < 200) {
        send(c, sent, next, authority, "");
        next += 2;
        for (Frame f = c.readFrame(Duration.ofMillis(100));
            f != null;
            f = c.readFrame(Duration.ofMillis(20))) {
          read.add(f);
          if (f.isGoAway()) {
            finalGoaway = f;
            break;
          }
        }
      }
      assertThat(finalGoaway)
          .as("the final GOAWAY within the drain; read %s", RawH2Connection.summary(read))
          .isNotNull();
      int last = finalGoaway.lastStreamId();
      assertThat(last)
          .as("the final GOAWAY names the real last stream")
          .isLessThan(MAX_STREAM_ID)
          .isGreaterThanOrEqualTo(5);
      assertThat(finalGoaway.errorCode()).isEqualTo(RawH2Connection.NO_ERROR);

      // Still ignoring it: two streams surely above the final id.
      int lastSent = next + 2;
      send(c, sent, next, authority, "");
      send(c, sent, lastSent, authority, "");
      // Their refusals arrive while stream 1 still holds the connection open.
      read.addAll(
          c.readUntil(
              f -> f.type() == RawH2Connection.RST_STREAM && f.streamId() == lastSent, WAIT));
      upstream.releaseHeld();
      read.addAll(c.readToEnd(WAIT));

      Map<Integer, String> outcome = outcomes(read);
      for (int id : sent) {
        if (id <= last) {
          assertThat(outcome.get(id))
              .as("stream %d, at or below the final last-stream-id %d: %s", id, last, outcome)
              .isEqualTo("200");
        } else {
          assertThat(outcome.get(id))
              .as("stream %d, above the final last-stream-id %d: %s", id, last, outcome)
              .isEqualTo("RST_STREAM " + RawH2Connection.REFUSED_STREAM);
        }
      }
      assertThat(sent).as("streams above the final id were tried").anyMatch(id -> id > last);
      Map<String, Integer> expected = new TreeMap<>();
      sent.stream().filter(id -> id <= last).forEach(id -> expected.put("ga-" + id, 1));
      assertThat(upstream.idCounts())
          .as("accepted streams reached the upstream once, refused ones never")
          .isEqualTo(expected);
      assertThat(first.awaitExit(Generations.WAIT))
          .as("the drained generation's exit code")
          .isZero();
      System.out.println(
          "two-phase GOAWAY: final last-stream-id "
              + last
              + ", streams "
              + sent
              + ", outcomes "
              + outcome);
    }
  }

  private static void send(
      RawH2Connection c, List<Integer> sent, int streamId, String authority, String query) {
    c.sendGet(streamId, authority, "/load/ga-" + streamId + query);
    sent.add(streamId);
  }

  /** Per stream: its response status once it ended, or {@code RST_STREAM <code>}. */
  private static Map<Integer, String> outcomes(List<Frame> frames) {
    Map<Integer, String> status = new TreeMap<>();
    Map<Integer, String> result = new TreeMap<>();
    for (Frame f : frames) {
      if (f.streamId() == 0) {
        continue;
      }
      if (f.type() == RawH2Connection.HEADERS
          && f.headers() != null
          && f.headers().status() != null) {
        status.put(f.streamId(), f.headers().status().toString());
      }
      if (f.endStream()) {
        result.put(f.streamId(), status.getOrDefault(f.streamId(), "no status"));
      }
      if (f.type() == RawH2Connection.RST_STREAM) {
        result.put(f.streamId(), "RST_STREAM " + f.errorCode());
      }
    }
    return result;
  }
}
