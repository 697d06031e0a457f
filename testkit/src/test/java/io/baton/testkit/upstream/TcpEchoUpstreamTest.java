package io.baton.testkit.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.Socket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TcpEchoUpstreamTest {

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void echoesEverythingThenClosesAfterHalfClose() throws Exception {
    try (TcpEchoUpstream echo = TcpEchoUpstream.start(0);
        Socket s = new Socket("127.0.0.1", echo.port())) {
      s.setSoTimeout(10_000);
      byte[] data = new byte[4 * 1024 * 1024];
      ThreadLocalRandom.current().nextBytes(data);
      Thread writer =
          new Thread(
              () -> {
                try {
                  s.getOutputStream().write(data);
                  s.getOutputStream().flush();
                  s.shutdownOutput(); // half-close: we still read
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
      writer.start();
      InputStream in = s.getInputStream();
      byte[] got = in.readNBytes(data.length);
      assertThat(got).isEqualTo(data);
      assertThat(in.read()).as("FIN after the echo").isEqualTo(-1);
      writer.join(30_000);
      assertThat(echo.connectionsAccepted()).isEqualTo(1);
    }
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void halfCloseWithoutDataGetsFin() throws Exception {
    try (TcpEchoUpstream echo = TcpEchoUpstream.start(0);
        Socket s = new Socket("127.0.0.1", echo.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("ping".getBytes());
      assertThat(s.getInputStream().readNBytes(4)).isEqualTo("ping".getBytes());
      s.shutdownOutput();
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
  }
}
