package io.baton.testkit.load;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.testkit.upstream.TestUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TestUpstreamLoadClientTest {

  private TestUpstream upstream;

  @BeforeEach
  void start() {
    upstream = TestUpstream.start(0);
  }

  @AfterEach
  void stop() {
    upstream.close();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void keepAliveLoadArrivesExactlyOnce() {
    LoadClient c =
        LoadClient.builder("127.0.0.1", upstream.port())
            .workers(8)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .maxRequests(1600)
            .build()
            .start();
    LoadResult r = c.awaitResult(Duration.ofSeconds(50));

    assertThat(r.ok()).as(r.toString()).isEqualTo(1600);
    assertThat(r.failed()).isZero();
    assertThat(r.attempted()).isEqualTo(1600);
    assertThat(r.finished()).isTrue();
    assertThat(r.connectionsOpened()).isEqualTo(8);
    assertThat(upstream.connectionsAccepted()).isEqualTo(8);
    assertExactlyOnce(c.idsSent(), 1600);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void closeModeLoadArrivesExactlyOnce() {
    LoadClient c =
        LoadClient.builder("127.0.0.1", upstream.port())
            .workers(8)
            .mode(LoadClient.Mode.CLOSE)
            .maxRequests(1600)
            .build()
            .start();
    LoadResult r = c.awaitResult(Duration.ofSeconds(50));

    assertThat(r.ok()).as(r.toString()).isEqualTo(1600);
    assertThat(r.failed()).isZero();
    assertThat(r.connectionCloseResponses()).isEqualTo(1600);
    assertThat(r.connectionsOpened()).isEqualTo(1600);
    assertThat(upstream.connectionsAccepted()).isEqualTo(1600);
    assertExactlyOnce(c.idsSent(), 1600);
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void nothingListeningCountsEveryAttemptAsFailedIoWithoutRetries() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    LoadClient c =
        LoadClient.builder("127.0.0.1", port).workers(4).maxRequests(200).build().start();
    LoadResult r = c.awaitResult(Duration.ofSeconds(20));

    assertThat(r.attempted()).isEqualTo(200);
    assertThat(r.failedIo()).isEqualTo(200);
    assertThat(r.ok()).isZero();
    assertThat(r.failedStatus()).isZero();
    assertThat(r.connectionsOpened()).isZero();
    assertThat(r.firstErrors()).hasSize(10).allMatch(e -> e.contains("Connection refused"));
    assertThat(c.idsSent()).hasSize(200);
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void serverClosingAfterEachResponseIsHonouredNotRetried() throws Exception {
    // A server that answers every request with Connection: close and a generation header.
    try (ServerSocket ss = new ServerSocket(0)) {
      Thread server =
          new Thread(
              () -> {
                while (!ss.isClosed()) {
                  try (Socket s = ss.accept()) {
                    readRequestHead(s.getInputStream());
                    s.getOutputStream()
                        .write(
                            ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
                                    + "X-Baton-Generation: 7\r\n\r\nok")
                                .getBytes(StandardCharsets.US_ASCII));
                  } catch (IOException e) {
                    return;
                  }
                }
              });
      server.setDaemon(true);
      server.start();
      LoadClient c =
          LoadClient.builder("127.0.0.1", ss.getLocalPort())
              .workers(1)
              .maxRequests(20)
              .build()
              .start();
      LoadResult r = c.awaitResult(Duration.ofSeconds(20));

      assertThat(r.ok()).as(r.toString()).isEqualTo(20);
      assertThat(r.connectionCloseResponses()).isEqualTo(20);
      assertThat(r.connectionsOpened()).isEqualTo(20);
      assertThat(r.servedBy(7)).isEqualTo(20);
    }
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void statusAndEofAreCountedOnce() throws Exception {
    LoadClient c =
        LoadClient.builder("127.0.0.1", upstream.port())
            .workers(2)
            .path("/status/")
            .idPrefix("x")
            .maxRequests(10)
            .build()
            .start();
    // ids are "x-<n>", not numbers: /status/x-1 is a 404 from the upstream.
    LoadResult r = c.awaitResult(Duration.ofSeconds(20));
    assertThat(r.failedStatus()).as(r.toString()).isEqualTo(10);
    assertThat(r.failedIo()).isZero();

    // A server that closes without answering.
    try (ServerSocket ss = new ServerSocket(0)) {
      Thread server =
          new Thread(
              () -> {
                while (!ss.isClosed()) {
                  try (Socket s = ss.accept()) {
                    readRequestHead(s.getInputStream());
                  } catch (IOException e) {
                    return;
                  }
                }
              });
      server.setDaemon(true);
      server.start();
      LoadResult eof =
          LoadClient.builder("127.0.0.1", ss.getLocalPort())
              .workers(1)
              .maxRequests(5)
              .build()
              .start()
              .awaitResult(Duration.ofSeconds(20));
      assertThat(eof.failedIo()).isEqualTo(5);
      assertThat(eof.attempted()).isEqualTo(5);
      assertThat(eof.firstErrors()).allMatch(e -> e.contains("closed before a response"));
    }
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void maxDurationAndStopBoundTheRun() {
    LoadClient c =
        LoadClient.builder("127.0.0.1", upstream.port())
            .workers(2)
            .maxDuration(Duration.ofMillis(300))
            .build()
            .start();
    LoadResult r = c.awaitResult(Duration.ofSeconds(20));
    assertThat(r.failed()).isZero();
    assertThat(r.ok()).isPositive().isEqualTo(r.attempted());

    LoadClient d =
        LoadClient.builder("127.0.0.1", upstream.port())
            .workers(2)
            .maxDuration(Duration.ofMinutes(10))
            .build()
            .start();
    d.stop();
    LoadResult s = d.awaitResult(Duration.ofSeconds(20));
    assertThat(s.failed()).isZero();
    assertThat(s.ok()).isEqualTo(s.attempted());
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void echoStreamsEightMebibytesBack() throws Exception {
    byte[] body = new byte[8 * 1024 * 1024];
    ThreadLocalRandom.current().nextBytes(body);
    try (Socket s = new Socket("127.0.0.1", upstream.port())) {
      s.setSoTimeout(20_000);
      OutputStream out = s.getOutputStream();
      // Write from another thread: the echo streams back while we send, so both must run.
      Thread writer =
          new Thread(
              () -> {
                try {
                  out.write(
                      ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
                              + body.length
                              + "\r\n\r\n")
                          .getBytes(StandardCharsets.US_ASCII));
                  for (int off = 0; off < body.length; off += 65536) {
                    out.write(body, off, Math.min(65536, body.length - off));
                  }
                  out.flush();
                } catch (IOException e) {
                  throw new RuntimeException(e);
                }
              });
      writer.start();
      InputStream in = s.getInputStream();
      Map<String, String> head = readResponseHead(in);
      assertThat(head.get(":status")).isEqualTo("200");
      assertThat(head.get("transfer-encoding")).isEqualTo("chunked");
      byte[] got = readChunkedBody(in);
      writer.join(30_000);
      assertThat(got.length).isEqualTo(body.length);
      assertThat(sha256(got)).isEqualTo(sha256(body));
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void bytesStreamsExactLengthAndPattern() throws Exception {
    long[] sizes = {0, 1, 16 * 1024, 16 * 1024 + 1, 5_000_000};
    try (Socket s = new Socket("127.0.0.1", upstream.port())) {
      s.setSoTimeout(20_000);
      for (long n : sizes) { // keep-alive: all on one connection
        s.getOutputStream()
            .write(
                ("GET /bytes/" + n + " HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        Map<String, String> head = readResponseHead(s.getInputStream());
        assertThat(head.get(":status")).isEqualTo("200");
        byte[] got = readChunkedBody(s.getInputStream());
        assertThat(got.length).as("length for n=" + n).isEqualTo((int) n);
        byte[] expected = new byte[(int) n];
        TestUpstream.fillPattern(0, expected, (int) n);
        assertThat(got).isEqualTo(expected);
      }
    }
    assertThat(upstream.connectionsAccepted()).isEqualTo(1);
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void delayAndStatus() throws Exception {
    try (Socket s = new Socket("127.0.0.1", upstream.port())) {
      s.setSoTimeout(10_000);
      long t = System.nanoTime();
      s.getOutputStream()
          .write("GET /delay/200 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      LoadClient.Response r = LoadClient.readResponse(s.getInputStream());
      assertThat(r.status()).isEqualTo(200);
      assertThat((System.nanoTime() - t) / 1_000_000).isGreaterThanOrEqualTo(190);
      s.getOutputStream()
          .write(
              "GET /status/503 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      r = LoadClient.readResponse(s.getInputStream());
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.connectionClose()).isTrue();
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void idsReportsEveryIdWithItsCountForATestInAnotherProcess() throws IOException {
    LoadClient c =
        LoadClient.builder("127.0.0.1", upstream.port())
            .workers(4)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .maxRequests(200)
            .build()
            .start();
    assertThat(c.awaitResult(Duration.ofSeconds(50)).ok()).isEqualTo(200);
    try (Socket s = new Socket("127.0.0.1", upstream.port())) {
      s.getOutputStream()
          .write(
              "GET /ids HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      String body = response.substring(response.indexOf("\r\n\r\n") + 4);
      assertThat(TestUpstream.parseIdCounts(body)).isEqualTo(upstream.idCounts()).hasSize(200);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private void assertExactlyOnce(List<String> sent, int n) {
    assertThat(sent).hasSize(n);
    assertThat(new HashSet<>(sent)).hasSize(n);
    Map<String, Integer> counts = upstream.idCounts();
    assertThat(counts).hasSize(n);
    assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(sent);
    assertThat(counts.values()).allMatch(c -> c == 1);
  }

  static void readRequestHead(InputStream in) throws IOException {
    int state = 0;
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("eof");
      }
      state =
          (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
              ? state + 1
              : 0;
    }
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new IOException("eof");
      }
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  private static Map<String, String> readResponseHead(InputStream in) throws IOException {
    Map<String, String> h = new HashMap<>();
    h.put(":status", line(in).split(" ")[1]);
    String l;
    while (!(l = line(in)).isEmpty()) {
      int colon = l.indexOf(':');
      h.put(l.substring(0, colon).trim().toLowerCase(), l.substring(colon + 1).trim());
    }
    return h;
  }

  private static byte[] readChunkedBody(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      int size = Integer.parseInt(line(in).trim(), 16);
      if (size == 0) {
        while (!line(in).isEmpty()) {
          // trailers
        }
        return body.toByteArray();
      }
      body.write(in.readNBytes(size));
      assertThat(line(in)).isEmpty();
    }
  }

  private static byte[] sha256(byte[] b) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(b);
  }
}
