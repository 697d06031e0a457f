package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.it.support.ProcFigures;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.load.H2LoadClient;
import io.baton.testkit.load.H2LoadResult;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.upstream.TestH2Upstream;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The short soak of issue 16 (the long one is {@code bench/soak.sh}): twenty handoffs in a row,
 * each under an HTTP/1.1 keep-alive, an HTTP/1.1 {@code Connection: close} and an h2c load, while a
 * batch of idle keep-alive connections stays open through all of them. Nothing may fail, every
 * request id arrives once at its upstream, the idle connections are still there at the end (moved
 * to the last generation), and the active process after handoff 20 has as many fds and threads as
 * the one after handoff 1: a generation that inherits something its predecessor leaked (a listener
 * or control fd, a migrated connection never closed, a thread started per handoff) shows here.
 *
 * <p>The loads are small (a few clients, h2c streams held 10 ms at the upstream) so that they leave
 * the two cores some room for the new generation's start: a closed-loop load takes whatever CPU it
 * gets, and the run must stay within about two minutes on a shared machine. The load runs around
 * each handoff only; fds and threads are counted with no load, once the process has settled: its
 * predecessor gone ({@code predecessor_drained}), the load's client connections closed on its side,
 * and the pooled upstream connections closed by the clusters' {@code idleTimeout} of 1s (their
 * number follows the load's peak concurrency, which no two generations share). What stays is what
 * the process keeps: listeners, the idle connections, control and admin sockets, the JVM's own
 * files and threads.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class SoakTest {

  private static final int HANDOFFS = 20;
  private static final int IDLE_CONNECTIONS = 50;
  private static final int KEEP_ALIVE_CLIENTS = 4;
  private static final int CLOSE_CLIENTS = 2;
  private static final int H2_CONNECTIONS = 2;
  private static final int H2_STREAMS = 8;
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final BatonFixture fixture = new BatonFixture();
  private final List<RawHttp> idle = new ArrayList<>();
  private TestUpstream http1Upstream;
  private TestH2Upstream h2cUpstream;

  @AfterEach
  void cleanUp() throws IOException {
    for (RawHttp c : idle) {
      c.close();
    }
    fixture.close();
    if (http1Upstream != null) {
      http1Upstream.close();
    }
    if (h2cUpstream != null) {
      h2cUpstream.close();
    }
  }

  @Test
  void twentyHandoffsUnderLoadLoseNothingAndLeaveFdsAndThreadsAsTheyWere() throws Exception {
    http1Upstream = TestUpstream.start(0);
    h2cUpstream = TestH2Upstream.start(0, 0);
    Path config =
        fixture
            .config()
            .servingHeader(true)
            .httpListener("web", "127.0.0.1:0", "app")
            .httpListener("web-h2", "127.0.0.1:0", "app-h2")
            .cluster("app", "127.0.0.1:" + http1Upstream.port())
            .idleTimeout("1s")
            .h2cCluster("app-h2", "127.0.0.1:" + h2cUpstream.port())
            .idleTimeout("1s")
            .write();
    Generations generations = new Generations(fixture, config);
    ServingLine first = generations.start();
    InetSocketAddress web = first.listener("web");
    InetSocketAddress webH2 = first.listener("web-h2");

    Set<String> http1Ids = new HashSet<>();
    for (int i = 0; i < IDLE_CONNECTIONS; i++) {
      RawHttp c = new RawHttp(web, 4096);
      idle.add(c);
      RawHttp.Response r = request(c, "idle-" + i + "-first");
      assertThat(r.status()).as("idle connection %d, its one request", i).isEqualTo(200);
      http1Ids.add("idle-" + i + "-first");
    }

    Set<String> h2cIds = new HashSet<>();
    long served = 0;
    ProcFigures afterFirst = null;
    ProcFigures afterLast = null;
    for (int handoff = 1; handoff <= HANDOFFS; handoff++) {
      LoadAroundHandoff load = LoadAroundHandoff.start(web, webH2, handoff);
      // The handoff happens under load: every client has been served before it...
      load.awaitProgress();
      generations.handOff();
      // ...and by the new process after it.
      load.awaitProgress();
      load.stop();
      LoadResult keepAlive = load.keepAlive.awaitResult(WAIT);
      LoadResult close = load.close.awaitResult(WAIT);
      H2LoadResult h2c = load.h2c.awaitResult(WAIT);
      assertThat(keepAlive.failed()).as("handoff %d, keep-alive: %s", handoff, keepAlive).isZero();
      assertThat(close.failed()).as("handoff %d, Connection: close: %s", handoff, close).isZero();
      assertThat(h2c.failed()).as("handoff %d, h2c streams: %s", handoff, h2c).isZero();
      assertThat(h2c.connectFailures()).as("handoff %d, h2c connects: %s", handoff, h2c).isZero();
      assertThat(h2c.finished())
          .as("handoff %d, every h2c stream ended: %s", handoff, h2c)
          .isTrue();
      assertThat(h2c.completed()).isEqualTo(h2c.attempted());
      http1Ids.addAll(load.keepAlive.idsSent());
      http1Ids.addAll(load.close.idsSent());
      h2cIds.addAll(load.h2c.idsSent());
      served += keepAlive.ok() + close.ok() + h2c.completed();
      if (handoff == 1) {
        afterFirst = settledFigures(generations, handoff);
      } else if (handoff == HANDOFFS) {
        afterLast = settledFigures(generations, handoff);
      }
    }

    String lastGeneration = Long.toString(HANDOFFS + 1);
    for (int i = 0; i < IDLE_CONNECTIONS; i++) {
      RawHttp.Response r = request(idle.get(i), "idle-" + i + "-last");
      assertThat(r.status()).as("idle connection %d after %d handoffs", i, HANDOFFS).isEqualTo(200);
      assertThat(r.header("X-Baton-Generation"))
          .as("idle connection %d moved with every handoff, to the last generation", i)
          .isEqualTo(lastGeneration);
      http1Ids.add("idle-" + i + "-last");
    }
    // Set equality, not containsExactlyInAnyOrder: that one is quadratic over ~10^5 ids.
    assertThat(http1Upstream.idCounts().keySet())
        .as("every HTTP/1.1 id sent arrived at its upstream, and nothing else")
        .isEqualTo(http1Ids);
    assertThat(http1Upstream.idCounts().values()).as("and exactly once").allMatch(n -> n == 1);
    assertThat(h2cUpstream.idCounts().keySet())
        .as("every h2c id sent arrived at its upstream, and nothing else")
        .isEqualTo(h2cIds);
    assertThat(h2cUpstream.idCounts().values())
        .as("and exactly once (a refused stream sent again counts once)")
        .allMatch(n -> n == 1);

    System.out.printf(
        "soak: %d handoffs, %d requests served, 0 failed; after handoff 1: %s; after handoff %d:"
            + " %s%n",
        HANDOFFS, served, afterFirst, HANDOFFS, afterLast);
    assertThat(afterLast.fds())
        .as(
            "open fds after handoff %d vs after handoff 1: %s vs %s",
            HANDOFFS, afterLast, afterFirst)
        .isEqualTo(afterFirst.fds());
    assertThat(afterLast.threads())
        .as(
            "threads after handoff %d vs after handoff 1: %s vs %s",
            HANDOFFS, afterLast, afterFirst)
        .isEqualTo(afterFirst.threads());
  }

  private static RawHttp.Response request(RawHttp c, String id) throws IOException {
    c.send("GET /load/" + id + " HTTP/1.1\r\nHost: soak\r\nX-Request-Id: " + id + "\r\n\r\n");
    return c.read();
  }

  /**
   * The active process's figures once it has settled (see the class comment): its predecessor is
   * gone, it holds no client connection but the idle ones, the upstreams see no connection from it
   * (its pools closed theirs after idleTimeout), and its fd count is the same twice in a row.
   */
  private ProcFigures settledFigures(Generations generations, int handoff) {
    var active = generations.active();
    active.awaitLogLine("predecessor_drained", WAIT);
    InetSocketAddress admin = generations.serving().admin();
    Awaitility.await("handoff " + handoff + ": only the idle connections left, pools closed")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                http1Upstream.connectionsOpen() == 0
                    && h2cUpstream.connectionsOpen() == 0
                    && Admin.sample(admin, "baton_connections_active{listener=\"web\"}")
                        == IDLE_CONNECTIONS
                    && Admin.sample(admin, "baton_connections_active{listener=\"web-h2\"}") == 0);
    // No scrape from here on: an admin connection being closed would count.
    AtomicInteger previous = new AtomicInteger(-1);
    Awaitility.await("handoff " + handoff + ": the same fd count twice, 250 ms apart")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(250))
        .until(() -> active.openFds() == previous.getAndSet(active.openFds()));
    return ProcFigures.of(active.pid());
  }

  /** The three loads of one handoff, each with ids of its own. */
  private static final class LoadAroundHandoff {
    private final LoadClient keepAlive;
    private final LoadClient close;
    private final H2LoadClient h2c;

    private LoadAroundHandoff(LoadClient keepAlive, LoadClient close, H2LoadClient h2c) {
      this.keepAlive = keepAlive;
      this.close = close;
      this.h2c = h2c;
    }

    static LoadAroundHandoff start(InetSocketAddress web, InetSocketAddress webH2, int handoff) {
      // Bounded by time too, should a stop never come.
      Duration bound = Duration.ofMinutes(2);
      LoadClient keepAlive =
          LoadClient.builder(web.getHostString(), web.getPort())
              .workers(KEEP_ALIVE_CLIENTS)
              .mode(LoadClient.Mode.KEEP_ALIVE)
              .idPrefix("ka" + handoff)
              .maxDuration(bound)
              .build()
              .start();
      LoadClient close =
          LoadClient.builder(web.getHostString(), web.getPort())
              .workers(CLOSE_CLIENTS)
              .mode(LoadClient.Mode.CLOSE)
              .idPrefix("close" + handoff)
              .maxDuration(bound)
              .build()
              .start();
      H2LoadClient h2c =
          H2LoadClient.builder(webH2.getHostString(), webH2.getPort())
              .connections(H2_CONNECTIONS)
              .streams(H2_STREAMS)
              .idPrefix("h2c" + handoff)
              .query("?delay=10")
              .maxDuration(bound)
              .build()
              .start();
      return new LoadAroundHandoff(keepAlive, close, h2c);
    }

    /** Waits until every load has completed more requests than it has clients, from now on. */
    void awaitProgress() {
      long ka = keepAlive.result().ok();
      long cl = close.result().ok();
      long h2 = h2c.result().completed();
      Awaitility.await("progress of every load")
          .atMost(WAIT)
          .until(
              () ->
                  keepAlive.result().ok() > ka + KEEP_ALIVE_CLIENTS
                      && close.result().ok() > cl + CLOSE_CLIENTS
                      && h2c.result().completed() > h2 + H2_CONNECTIONS * H2_STREAMS);
    }

    void stop() {
      keepAlive.stop();
      close.stop();
      h2c.stop();
    }
  }
}
