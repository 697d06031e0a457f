package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TcpEchoUpstream;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Live TCP connections move to the next generation as client/upstream pairs: the streams go on
 * across handoffs on the same sockets, and each old process exits without waiting for them.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class TcpMigrationTest {

  private static final int STREAMS = 8;

  /** Bytes each stream must carry through a generation before the next handoff. */
  private static final long PROGRESS_PER_GENERATION = 512 * 1024;

  /**
   * An upper bound, so the test ends even if a stop is never seen (far above what the pace
   * reaches).
   */
  private static final long MAX_STREAM_BYTES = 1024L * 1024 * 1024;

  private final BatonFixture fixture = new BatonFixture();
  private final List<Stream> streams = new ArrayList<>();
  private TcpEchoUpstream upstream;

  @AfterEach
  void cleanUp() {
    streams.forEach(Stream::abort);
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void longStreamsCrossThreeHandoffsOnTheSameSocketsWithEveryByteOnceAndInOrder() throws Exception {
    upstream = TcpEchoUpstream.start(0);
    Path config =
        fixture
            .config()
            // Longer than Generations.WAIT: an old process that waited for its streams to end would
            // fail handOff(), which expects its exit within that wait.
            .drainTimeout("120s")
            .tcpListener("raw", "127.0.0.1:0", "echo")
            .cluster("echo", "127.0.0.1:" + upstream.port())
            .write();
    Generations generations = new Generations(fixture, config);
    InetSocketAddress raw = generations.start().listener("raw");
    for (int i = 0; i < STREAMS; i++) {
      streams.add(Stream.open(raw, i));
    }
    awaitProgress();

    for (int handoff = 1; handoff <= 3; handoff++) {
      BatonProcess old = generations.active();
      ServingLine next = generations.handOff(); // returns once the old process has exited
      assertThat(old.stderrText()).as("generation %d's log", handoff).contains("drain finished");
      assertThat(
              Admin.sample(
                  next.admin(),
                  "baton_connections_migrated_total{listener=\"raw\",protocol=\"tcp\"}"))
          .as("pairs moved in %d handoffs (the counter carries on across generations)", handoff)
          .isEqualTo(STREAMS * handoff);
      awaitProgress(); // every stream flows through the new generation
    }

    for (Stream s : streams) {
      s.finish();
    }
    List<String> sent = new ArrayList<>();
    for (Stream s : streams) {
      Stream.Result r = s.result().get(120, TimeUnit.SECONDS);
      assertThat(r.received())
          .as("stream %d: the echo of every byte sent, once and in order", s.seed)
          .isEqualTo(r.sent());
      sent.add(r.sent());
    }
    await().atMost(Generations.WAIT).until(() -> upstream.endedConnections().size() == STREAMS);
    assertThat(upstream.endedConnections())
        .extracting(TcpEchoUpstream.EndedConnection::sha256)
        .as("what the upstream received on each connection: every stream whole, in order")
        .containsExactlyInAnyOrderElementsOf(sent);
    assertThat(upstream.connectionsAccepted())
        .as("one upstream connection per stream: never reconnected")
        .isEqualTo(STREAMS);
    assertThat(
            Admin.sample(
                generations.serving().admin(),
                "baton_connections_accepted_total{listener=\"raw\"}"))
        .as("client connections accepted, by generation 1 only, the count carried over")
        .isEqualTo(STREAMS);
  }

  @Test
  void aPairThatCannotBeQuietedStaysOnTheOldProcessAndIsDrainedThere() throws Exception {
    TestUpstream http = TestUpstream.start(0);
    try {
      Path config =
          fixture
              .config()
              .drainTimeout("120s")
              .tcpListener("raw", "127.0.0.1:0", "web")
              .cluster("web", "127.0.0.1:" + http.port())
              .write();
      Generations generations = new Generations(fixture, config);
      InetSocketAddress raw = generations.start().listener("raw");
      long size = 64L * 1024 * 1024; // more than every socket buffer on the way can hold
      try (RawHttp client = new RawHttp(raw)) {
        client.send("GET /bytes/" + size + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        // The client does not read: once its receive buffer stops filling, Baton holds bytes it
        // cannot write to the client, so the pair cannot be quiet for a move.
        int[] last = {-1};
        await()
            .atMost(Generations.WAIT)
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> {
                  int waiting = client.bytesWaiting();
                  boolean full = waiting > 0 && waiting == last[0];
                  last[0] = waiting;
                  return full;
                });
        BatonProcess old = generations.active();

        ServingLine next = fixture.start(config).awaitServing(Generations.WAIT);
        old.awaitLogLine("stays here (it did not write out what it holds", Generations.WAIT);
        assertThat(old.isAlive()).as("the old process drains the pair it kept").isTrue();

        RawHttp.Response r = client.read(false);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyLength()).isEqualTo(size);
        assertThat(r.sha256())
            .as("the whole body, in order, relayed by the old process")
            .isEqualTo(patternSha256(size));
        client.shutdownOutput(); // the upstream ended its side; now the client ends its own
        assertThat(old.awaitExit(Generations.WAIT))
            .as("the old process exits once the pair ended")
            .isZero();
        assertThat(
                Admin.sample(
                    next.admin(),
                    "baton_connections_migrated_total{listener=\"raw\",protocol=\"tcp\"}"))
            .as("nothing moved")
            .isIn(0.0, Double.NaN);
      }
    } finally {
      http.close();
    }
  }

  private static String patternSha256(long size) {
    MessageDigest digest = RawHttp.sha256();
    byte[] chunk = new byte[1 << 20];
    for (long offset = 0; offset < size; offset += chunk.length) {
      int len = (int) Math.min(chunk.length, size - offset);
      TestUpstream.fillPattern(offset, chunk, len);
      digest.update(chunk, 0, len);
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private void awaitProgress() {
    long[] from = streams.stream().mapToLong(s -> s.echoed.get()).toArray();
    await()
        .atMost(Generations.WAIT)
        .pollInterval(Duration.ofMillis(20))
        .untilAsserted(
            () -> {
              for (int i = 0; i < streams.size(); i++) {
                Stream s = streams.get(i);
                if (s.result().isCompletedExceptionally()) {
                  s.result().join(); // fails with the stream's own error
                }
                assertThat(s.echoed.get() - from[i])
                    .as("bytes echoed to stream %d since the last step", s.seed)
                    .isGreaterThanOrEqualTo(PROGRESS_PER_GENERATION);
              }
            });
  }

  /**
   * One connection that writes seeded random bytes until told to finish, then half-closes and reads
   * the rest of the echo; digests of both directions are compared at the end.
   */
  private static final class Stream {
    record Result(String sent, String received) {}

    private final long seed;
    private final Socket socket;
    private final AtomicLong echoed = new AtomicLong();
    private final CompletableFuture<Result> result = new CompletableFuture<>();
    private volatile boolean finishing;

    private Stream(long seed, Socket socket) {
      this.seed = seed;
      this.socket = socket;
    }

    static Stream open(InetSocketAddress address, long seed) throws IOException {
      Socket s = new Socket();
      s.connect(address, 5000);
      s.setSoTimeout(60_000);
      Stream stream = new Stream(seed, s);
      stream.start();
      return stream;
    }

    CompletableFuture<Result> result() {
      return result;
    }

    void finish() {
      finishing = true;
    }

    void abort() {
      try {
        socket.close();
      } catch (IOException e) {
        // closing a test client: nothing to report
      }
    }

    private void start() {
      CompletableFuture<String> received = new CompletableFuture<>();
      Thread reader =
          new Thread(
              () -> {
                try {
                  MessageDigest digest = RawHttp.sha256();
                  InputStream in = socket.getInputStream();
                  byte[] buf = new byte[65536];
                  for (int r; (r = in.read(buf)) != -1; ) {
                    digest.update(buf, 0, r);
                    echoed.addAndGet(r);
                  }
                  received.complete(HexFormat.of().formatHex(digest.digest()));
                } catch (Throwable e) {
                  received.completeExceptionally(e);
                  result.completeExceptionally(e);
                }
              },
              "tcp-stream-reader-" + seed);
      Thread writer =
          new Thread(
              () -> {
                try {
                  MessageDigest digest = RawHttp.sha256();
                  OutputStream out = socket.getOutputStream();
                  Random random = new Random(seed);
                  byte[] chunk = new byte[8 * 1024];
                  for (long written = 0;
                      !finishing && written < MAX_STREAM_BYTES;
                      written += chunk.length) {
                    random.nextBytes(chunk);
                    digest.update(chunk);
                    out.write(chunk);
                    // Paced (about 2 MB/s) so the stream spans the handoffs and a shared machine
                    // keeps up.
                    Thread.sleep(4);
                  }
                  out.flush();
                  socket.shutdownOutput();
                  String sent = HexFormat.of().formatHex(digest.digest());
                  result.complete(new Result(sent, received.get(60, TimeUnit.SECONDS)));
                } catch (Throwable e) {
                  result.completeExceptionally(e);
                }
              },
              "tcp-stream-writer-" + seed);
      reader.start();
      writer.start();
    }
  }
}
