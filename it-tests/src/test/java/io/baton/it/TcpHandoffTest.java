package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.upstream.TcpEchoUpstream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TCP through Baton: bytes arrive complete and in order across handoffs; old connections stay on
 * the old process.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class TcpHandoffTest {

  private static final int STREAM_BYTES = 4 * 1024 * 1024;
  private final BatonFixture fixture = new BatonFixture();
  private TcpEchoUpstream upstream;

  @AfterEach
  void cleanUp() {
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
  }

  private Generations start(boolean migrate) {
    upstream = TcpEchoUpstream.start(0);
    Path config =
        fixture
            .config()
            .migrate(migrate)
            .drainTimeout("60s")
            .tcpListener("raw", "127.0.0.1:0", "echo")
            .cluster("echo", "127.0.0.1:" + upstream.port())
            .write();
    Generations generations = new Generations(fixture, config);
    generations.start();
    return generations;
  }

  @Test
  void streamsStartedOnEitherSideOfAHandoffArriveCompleteAndInOrder() throws Exception {
    Generations generations = start(true);
    InetSocketAddress raw = generations.serving().listener("raw");
    List<CompletableFuture<Void>> streams = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      streams.add(echoStream(raw, i, null));
    }
    generations.handOff();
    for (int i = 4; i < 8; i++) {
      streams.add(echoStream(raw, i, null));
    }
    CompletableFuture.allOf(streams.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
  }

  @Test
  void withMigrationOffAConnectionOpenedBeforeTheHandoffKeepsWorkingOnTheOldProcessUntilItEnds()
      throws Exception {
    Generations generations = start(false);
    InetSocketAddress raw = generations.serving().listener("raw");
    var old = generations.active();
    CountDownLatch resume = new CountDownLatch(1);
    // Half the stream before the handoff, half after it, on one connection.
    CompletableFuture<Void> stream = echoStream(raw, 42, resume);

    var successor = fixture.start(fixtureConfig());
    ServingLine second = successor.awaitServing(Generations.WAIT);
    assertThat(second.generation()).isEqualTo(2);
    old.awaitLogLine("drain started: 1 connections open", Generations.WAIT);
    assertThat(old.isAlive()).as("the old process waits for its TCP connection").isTrue();

    resume.countDown();
    stream.get(120, TimeUnit.SECONDS);
    assertThat(old.awaitExit(Generations.WAIT))
        .as("the old process exits once its last connection ended")
        .isZero();
  }

  private Path fixtureConfig() {
    return fixture.dir().resolve("baton.yaml");
  }

  /**
   * Writes {@link #STREAM_BYTES} seeded random bytes and reads the echo, comparing digests; with
   * {@code halfway} it pauses after half until the latch opens. Ends with a half-close: the client
   * shuts its output and still reads the rest of the echo.
   */
  private static CompletableFuture<Void> echoStream(
      InetSocketAddress address, long seed, CountDownLatch halfway) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try (Socket s = new Socket()) {
                s.connect(address, 5000);
                s.setSoTimeout(60_000);
                MessageDigest sent = RawHttp.sha256();
                MessageDigest received = RawHttp.sha256();
                Thread reader =
                    new Thread(
                        () -> {
                          try {
                            InputStream in = s.getInputStream();
                            byte[] buf = new byte[65536];
                            for (int r; (r = in.read(buf)) != -1; ) {
                              received.update(buf, 0, r);
                            }
                          } catch (Exception e) {
                            done.completeExceptionally(e);
                          }
                        });
                reader.start();
                OutputStream out = s.getOutputStream();
                Random random = new Random(seed);
                byte[] chunk = new byte[32 * 1024];
                for (int written = 0; written < STREAM_BYTES; written += chunk.length) {
                  if (halfway != null && written == STREAM_BYTES / 2) {
                    halfway.await();
                  }
                  random.nextBytes(chunk);
                  sent.update(chunk);
                  out.write(chunk);
                }
                out.flush();
                s.shutdownOutput();
                reader.join(60_000);
                assertThat(received.digest())
                    .as("echo of stream %d", seed)
                    .isEqualTo(sent.digest());
                done.complete(null);
              } catch (Throwable e) {
                done.completeExceptionally(e);
              }
            },
            "echo-stream-" + seed);
    t.start();
    return done;
  }
}
