package io.baton.it.support;

import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.Hello;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * A hand-written peer of {@code reconfig.sock} that sends exactly the bytes a test wants (a Hello
 * of another version, garbage) and returns the first frame it gets back. Also runnable as a process
 * ({@link #main}), so a test can start it as another uid.
 */
public final class ControlProbe {

  private ControlProbe() {}

  /** Sends a Hello with {@code version} and {@code pid}; returns the reply. */
  public static Envelope hello(Path reconfigSock, int version, long pid) throws IOException {
    Envelope hello =
        Envelope.newBuilder()
            .setProtocolVersion(version)
            .setHello(Hello.newBuilder().setPid((int) pid).setBuildVersion("control-probe"))
            .build();
    return exchange(reconfigSock, frame(hello.toByteArray()));
  }

  /** Sends {@code raw} as it is; returns the reply. */
  public static Envelope exchange(Path reconfigSock, byte[] raw) throws IOException {
    try (AFUNIXSocket socket = AFUNIXSocket.newInstance()) {
      socket.connect(AFUNIXSocketAddress.of(new File(reconfigSock.toString())), 5000);
      socket.setSoTimeout(15_000);
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      out.write(raw);
      out.flush();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      int length;
      try {
        length = in.readInt();
      } catch (EOFException e) {
        throw new IOException("reconfig.sock closed without a reply", e);
      }
      if (length < 0 || length > (1 << 20)) {
        throw new IOException("reply frame length " + length + " (expected 0..1 MiB)");
      }
      byte[] body = new byte[length];
      in.readFully(body);
      return Envelope.parseFrom(body);
    }
  }

  public static byte[] frame(byte[] body) {
    byte[] framed = new byte[body.length + 4];
    framed[0] = (byte) (body.length >>> 24);
    framed[1] = (byte) (body.length >>> 16);
    framed[2] = (byte) (body.length >>> 8);
    framed[3] = (byte) body.length;
    System.arraycopy(body, 0, framed, 4, body.length);
    return framed;
  }

  /**
   * {@code ControlProbe SOCKET}: sends a valid Hello, prints the reply's case and refusal reason.
   */
  public static void main(String[] args) throws Exception {
    Envelope reply = hello(Path.of(args[0]), 1, ProcessHandle.current().pid());
    System.out.println(
        "reply="
            + reply.getBodyCase()
            + (reply.hasRefusal()
                ? " reason="
                    + reply.getRefusal().getReason()
                    + " detail="
                    + reply.getRefusal().getDetail()
                : ""));
  }
}
