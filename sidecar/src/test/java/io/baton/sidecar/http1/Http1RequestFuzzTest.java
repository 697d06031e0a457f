package io.baton.sidecar.http1;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerConfig;
import io.baton.sidecar.config.ListenerProtocol;
import io.baton.sidecar.drain.DrainState;
import io.baton.sidecar.httpserver.CleartextHttpInitializer;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.upstream.Cluster;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Untrusted bytes from a client of an {@code http} listener, through the pipeline the process
 * installs ({@link CleartextHttpInitializer}: the h2c sniffer, then Baton's HTTP/1.1 decoder with
 * its limits, the expect-continue handler and the proxy handler) on an {@link EmbeddedChannel}. The
 * cluster has no member, so every request that decodes is answered 503 here and nothing needs a
 * network. Whatever the bytes: no exception leaves the pipeline, and what goes back to the client
 * is HTTP/1.1 responses, each a status this listener can give (100, 400, 503), within a bound.
 *
 * <p>Input layout: byte 0 is where the bytes are cut in two reads (0: one read); the rest is what
 * the client sends. Seeds: {@code Http1RequestFuzzTestInputs/}; {@code bench/fuzz.sh http1} fuzzes
 * it.
 */
class Http1RequestFuzzTest {

  private static final byte[] H2_PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** "PRI * HTTP/2.0\r\n": enough for the sniffer to choose HTTP/2. */
  private static final int PREFACE_LINE = 16;

  private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.1 (\\d{3}) ");

  /** A response here is a status line, a few headers and a one-line body. */
  private static final int RESPONSE_BYTES_AT_MOST = 512;

  private static final BatonMetrics METRICS = new BatonMetrics();
  private static final ListenerContext CONTEXT = context();

  private static ListenerContext context() {
    ClusterConfig clusterConfig =
        new ClusterConfig(
            "backend",
            List.of(),
            Duration.ofSeconds(1),
            Duration.ofSeconds(1),
            Duration.ofSeconds(60),
            Optional.empty());
    Cluster cluster = new Cluster(clusterConfig, METRICS.cluster("backend"));
    ListenerConfig listener =
        new ListenerConfig(
            "web",
            new HostPort("127.0.0.1", 0),
            ListenerProtocol.HTTP,
            "backend",
            Optional.empty());
    return new ListenerContext(
        listener, cluster, METRICS.listener("web"), new DrainState(), 1, false);
  }

  @FuzzTest(maxDuration = "10m")
  void anyBytesGetHttpResponsesOrACloseNeverAnException(byte[] input) {
    if (input.length == 0) {
      return;
    }
    byte[] sent = Arrays.copyOfRange(input, 1, input.length);
    int cut = Math.min(sent.length, input[0] & 0xff);
    EmbeddedChannel channel = new EmbeddedChannel(new CleartextHttpInitializer(CONTEXT));
    try {
      channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(sent, 0, cut)));
      if (channel.isOpen()) { // a 400 closes the connection: the rest is never read
        channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(sent, cut, sent.length)));
      }
      channel.runPendingTasks();
      channel.checkException();
      byte[] answer = drainOutbound(channel);
      if (!sniffedAsHttp2(sent)) {
        assertHttp1Answer(sent, answer);
      }
    } finally {
      channel.finishAndReleaseAll();
    }
  }

  private static void assertHttp1Answer(byte[] sent, byte[] answer) {
    String text = new String(answer, StandardCharsets.ISO_8859_1);
    if (text.isEmpty()) {
      return; // nothing complete arrived yet, or the connection was closed
    }
    assertThat(text).as("the answer to %s", printable(sent)).startsWith("HTTP/1.1 ");
    Matcher m = STATUS_LINE.matcher(text);
    int responses = 0;
    while (m.find()) {
      responses++;
      assertThat(m.group(1)).as("a status of this listener in %s", text).isIn("100", "400", "503");
    }
    assertThat(answer.length)
        .as("answer bytes")
        .isLessThanOrEqualTo(responses * RESPONSE_BYTES_AT_MOST);
  }

  private static byte[] drainOutbound(EmbeddedChannel channel) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object o; (o = channel.readOutbound()) != null; ) {
      if (o instanceof ByteBuf buf) {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        out.writeBytes(bytes);
        buf.release();
      }
    }
    return out.toByteArray();
  }

  /**
   * What PriorKnowledgeSniffer takes for HTTP/2 (its GOAWAY is the answer then) or has not decided
   * on yet: a prefix of the preface, or bytes that start with its first line.
   */
  private static boolean sniffedAsHttp2(byte[] sent) {
    return startsWith(sent, H2_PREFACE, Math.min(sent.length, H2_PREFACE.length))
        || sent.length > PREFACE_LINE && startsWith(sent, H2_PREFACE, PREFACE_LINE);
  }

  private static boolean startsWith(byte[] bytes, byte[] prefix, int length) {
    return length > 0 && Arrays.equals(bytes, 0, length, prefix, 0, length);
  }

  private static String printable(byte[] bytes) {
    String s = new String(bytes, 0, Math.min(bytes.length, 200), StandardCharsets.ISO_8859_1);
    return s.replace("\r", "\\r").replace("\n", "\\n")
        + (bytes.length > 200 ? "... (" + bytes.length + " bytes)" : "");
  }
}
