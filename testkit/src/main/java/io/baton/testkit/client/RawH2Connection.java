package io.baton.testkit.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * An HTTP/2 connection spoken frame by frame over a plain blocking {@link Socket}: for tests that
 * need what no well-behaved client does (a bad preface, a malformed frame, a SETTINGS flood,
 * oversized headers, opening streams after GOAWAY) and that read exactly what the server answers
 * (GOAWAY last-stream-id and error code, RST_STREAM codes, PING). Header blocks are HPACK-encoded
 * and decoded with Netty's codec so the dynamic tables stay in step; a header block split over
 * CONTINUATION frames is not decoded ({@link Frame#headers()} is null then).
 *
 * <p>One thread uses it at a time. Frame layout: RFC 9113 §4.1 (24-bit length, type, flags, 31-bit
 * stream id).
 */
public final class RawH2Connection implements AutoCloseable {

  public static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  public static final int DATA = 0x0;
  public static final int HEADERS = 0x1;
  public static final int RST_STREAM = 0x3;
  public static final int SETTINGS = 0x4;
  public static final int PING = 0x6;
  public static final int GOAWAY = 0x7;
  public static final int WINDOW_UPDATE = 0x8;
  public static final int CONTINUATION = 0x9;

  public static final int FLAG_END_STREAM = 0x1;
  public static final int FLAG_ACK = 0x1;
  public static final int FLAG_END_HEADERS = 0x4;

  /** Error codes, RFC 9113 §7. */
  public static final long NO_ERROR = 0x0;

  public static final long PROTOCOL_ERROR = 0x1;
  public static final long FRAME_SIZE_ERROR = 0x6;
  public static final long REFUSED_STREAM = 0x7;
  public static final long ENHANCE_YOUR_CALM = 0xb;

  /**
   * Reads beyond this frame length are refused: a test reading garbage should fail, not allocate.
   */
  private static final int MAX_READ_FRAME = 1 << 20;

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
  private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);
  private boolean answerPings = true;

  private RawH2Connection(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
    this.out = socket.getOutputStream();
  }

  /** Connects; nothing is sent yet. */
  public static RawH2Connection connect(InetSocketAddress address) {
    return connect(address, 0);
  }

  /**
   * The server side of an accepted socket (a fake server in a test); read the client preface first.
   */
  public static RawH2Connection accepted(Socket socket) {
    try {
      return new RawH2Connection(socket);
    } catch (IOException e) {
      throw new UncheckedIOException("accepted " + socket.getRemoteSocketAddress(), e);
    }
  }

  /** Reads the 24 bytes of the client preface and checks them (server side). */
  public void readPreface(Duration timeout) {
    try {
      socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
      byte[] got = new byte[PREFACE.length];
      in.readFully(got);
      if (!Arrays.equals(got, PREFACE)) {
        throw new IllegalStateException(
            "client preface: "
                + new String(got, StandardCharsets.ISO_8859_1)
                + " (expected the HTTP/2 preface)");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("read the preface from " + socket.getRemoteSocketAddress(), e);
    }
  }

  /**
   * Connects with a receive buffer of {@code receiveBuffer} bytes (0: the system's): a small one
   * makes the server's writes back up while this side does not read, as a flooding client would.
   */
  public static RawH2Connection connect(InetSocketAddress address, int receiveBuffer) {
    Socket s = new Socket();
    try {
      if (receiveBuffer > 0) {
        s.setReceiveBufferSize(receiveBuffer);
      }
      s.setTcpNoDelay(true);
      s.connect(address, 5000);
      return new RawH2Connection(s);
    } catch (IOException e) {
      try {
        s.close();
      } catch (IOException ignored) {
        // already failing
      }
      throw new UncheckedIOException("connect " + address, e);
    }
  }

  /**
   * The client side of the connection preface (RFC 9113 §3.4): the magic, an empty SETTINGS; then
   * reads until the server's SETTINGS and acknowledges it. Returns the frames read.
   */
  public List<Frame> handshake(Duration timeout) {
    sendRaw(PREFACE);
    sendSettings(Map.of());
    List<Frame> read = readUntil(f -> f.type == SETTINGS && (f.flags & FLAG_ACK) == 0, timeout);
    sendFrame(SETTINGS, FLAG_ACK, 0, new byte[0]);
    return read;
  }

  /**
   * Whether {@link #readUntil} answers the server's PINGs (yes by default, as a live client does).
   * Off: a client that never acks the drain's PING, so phase one lasts its full delay.
   */
  public RawH2Connection answerPings(boolean answer) {
    answerPings = answer;
    return this;
  }

  public void sendRaw(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("write to " + socket.getRemoteSocketAddress(), e);
    }
  }

  /** One frame with any type, flags, stream id and payload (as given, unchecked). */
  public void sendFrame(int type, int flags, int streamId, byte[] payload) {
    sendRaw(frame(type, flags, streamId, payload));
  }

  /** The 9-byte header and payload of a frame. */
  public static byte[] frame(int type, int flags, int streamId, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(9 + payload.length);
    b.put((byte) (payload.length >>> 16))
        .put((byte) (payload.length >>> 8))
        .put((byte) payload.length);
    b.put((byte) type).put((byte) flags).putInt(streamId & 0x7fffffff).put(payload);
    return b.array();
  }

  /** SETTINGS with these (identifier, value) pairs. */
  public void sendSettings(Map<Integer, Long> settings) {
    ByteBuffer b = ByteBuffer.allocate(6 * settings.size());
    settings.forEach(
        (id, value) -> b.putShort((short) id.intValue()).putInt((int) value.longValue()));
    sendFrame(SETTINGS, 0, 0, b.array());
  }

  /** A request's header block (HPACK, one HEADERS frame with END_HEADERS). */
  public void sendHeaders(int streamId, Http2Headers headers, boolean endStream) {
    sendFrame(
        HEADERS,
        FLAG_END_HEADERS | (endStream ? FLAG_END_STREAM : 0),
        streamId,
        encode(streamId, headers));
  }

  /** A GET for {@code path} on stream {@code streamId}, ended. */
  public void sendGet(int streamId, String authority, String path) {
    sendHeaders(
        streamId,
        new DefaultHttp2Headers().method("GET").scheme("http").authority(authority).path(path),
        true);
  }

  /** HPACK-encodes a header block with this connection's encoder. */
  public byte[] encode(int streamId, Http2Headers headers) {
    ByteBuf buf = Unpooled.buffer();
    try {
      encoder.encodeHeaders(streamId, headers, buf);
      byte[] bytes = new byte[buf.readableBytes()];
      buf.readBytes(bytes);
      return bytes;
    } catch (Http2Exception e) {
      throw new IllegalArgumentException("cannot encode headers " + headers, e);
    } finally {
      buf.release();
    }
  }

  /**
   * Sends {@code frame} {@code times} times in writes of about 64 KiB without reading, until the
   * server closes the connection; returns how many were sent. A flood's end is a closed connection,
   * so a failed write here is the expected outcome, not an error.
   */
  public long flood(byte[] frame, long times) {
    int perWrite = Math.max(1, 65536 / frame.length);
    byte[] chunk = new byte[perWrite * frame.length];
    for (int i = 0; i < perWrite; i++) {
      System.arraycopy(frame, 0, chunk, i * frame.length, frame.length);
    }
    long sent = 0;
    try {
      while (sent < times) {
        out.write(chunk);
        sent += perWrite;
      }
      out.flush();
    } catch (IOException e) {
      return sent;
    }
    return sent;
  }

  /**
   * A header block in a HEADERS frame and as many CONTINUATION frames as frames of {@code maxFrame}
   * bytes need.
   */
  public void sendHeadersSplit(
      int streamId, Http2Headers headers, boolean endStream, int maxFrame) {
    byte[] block = encode(streamId, headers);
    int off = 0;
    boolean firstFrame = true;
    do {
      int end = Math.min(block.length, off + maxFrame);
      int flags = end == block.length ? FLAG_END_HEADERS : 0;
      if (firstFrame) {
        sendFrame(
            HEADERS,
            flags | (endStream ? FLAG_END_STREAM : 0),
            streamId,
            Arrays.copyOfRange(block, off, end));
      } else {
        sendFrame(CONTINUATION, flags, streamId, Arrays.copyOfRange(block, off, end));
      }
      firstFrame = false;
      off = end;
    } while (off < block.length);
  }

  /** This side's port: what the server's log names as the peer. */
  public int localPort() {
    return socket.getLocalPort();
  }

  public void sendData(int streamId, byte[] data, boolean endStream) {
    sendFrame(DATA, endStream ? FLAG_END_STREAM : 0, streamId, data);
  }

  public void sendPing(long opaque, boolean ack) {
    sendFrame(PING, ack ? FLAG_ACK : 0, 0, ByteBuffer.allocate(8).putLong(opaque).array());
  }

  /**
   * The next frame, or null if none arrives within {@code timeout}; throws {@link EOFException}
   * (unchecked) at the end of the stream.
   */
  public Frame readFrame(Duration timeout) {
    try {
      socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
      int b0;
      try {
        b0 = in.read();
      } catch (SocketTimeoutException e) {
        return null;
      }
      if (b0 < 0) {
        throw new UncheckedIOException(
            new EOFException("connection closed by " + socket.getRemoteSocketAddress()));
      }
      // The rest of a frame follows promptly; a generous bound still fails a stuck test.
      socket.setSoTimeout(10_000);
      int length = (b0 << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
      int type = in.readUnsignedByte();
      int flags = in.readUnsignedByte();
      int streamId = in.readInt() & 0x7fffffff;
      if (length > MAX_READ_FRAME) {
        throw new IOException(
            "frame length " + length + " (expected at most " + MAX_READ_FRAME + ")");
      }
      byte[] payload = new byte[length];
      in.readFully(payload);
      Http2Headers headers = null;
      if (type == HEADERS && (flags & FLAG_END_HEADERS) != 0) {
        headers = decode(streamId, headerBlock(flags, payload));
      }
      return new Frame(type, flags, streamId, payload, headers);
    } catch (IOException e) {
      throw new UncheckedIOException("read from " + socket.getRemoteSocketAddress(), e);
    }
  }

  /** The header block fragment of a HEADERS payload without padding and priority fields. */
  private static byte[] headerBlock(int flags, byte[] payload) {
    int start = 0;
    int end = payload.length;
    if ((flags & 0x8) != 0) { // PADDED
      int pad = payload[0] & 0xff;
      start = 1;
      end -= pad;
    }
    if ((flags & 0x20) != 0) { // PRIORITY
      start += 5;
    }
    return Arrays.copyOfRange(payload, start, Math.max(start, end));
  }

  private Http2Headers decode(int streamId, byte[] block) {
    ByteBuf buf = Unpooled.wrappedBuffer(block);
    try {
      return decoder.decodeHeaders(streamId, buf);
    } catch (Http2Exception e) {
      throw new IllegalStateException(
          "the server's header block on stream " + streamId + " does not decode", e);
    } finally {
      buf.release();
    }
  }

  /**
   * Reads frames until one matches (returned last in the list) or {@code timeout} passes (then an
   * {@link AssertionError} lists what was read). PINGs are answered and SETTINGS acknowledged as
   * they come, as a live client would.
   */
  public List<Frame> readUntil(Predicate<Frame> match, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Frame> read = new ArrayList<>();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "no matching frame within " + timeout + "; read: " + summary(read));
      }
      Frame f = readFrame(Duration.ofNanos(left));
      if (f == null) {
        continue;
      }
      read.add(f);
      if (answerPings && f.type == PING && (f.flags & FLAG_ACK) == 0) {
        sendFrame(PING, FLAG_ACK, 0, f.payload);
      }
      if (match.test(f)) {
        return read;
      }
    }
  }

  /** Reads until a frame of {@code type} arrives (see {@link #readUntil}) and returns it. */
  public Frame readUntilType(int type, Duration timeout) {
    List<Frame> read = readUntil(f -> f.type == type, timeout);
    return read.get(read.size() - 1);
  }

  /** Reads until the server closes the connection (or {@code timeout}); returns the frames read. */
  public List<Frame> readToEnd(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Frame> read = new ArrayList<>();
    while (System.nanoTime() < deadline) {
      try {
        Frame f = readFrame(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
        if (f != null) {
          read.add(f);
        }
      } catch (UncheckedIOException e) {
        return read; // EOF or reset: the end
      }
    }
    throw new AssertionError(
        "the connection is still open after " + timeout + "; read: " + summary(read));
  }

  /** The frames for a message: a count and the last 10 (a flood test reads thousands). */
  public static String summary(List<Frame> frames) {
    int from = Math.max(0, frames.size() - 10);
    return frames.size()
        + " frames"
        + (from > 0 ? ", the last 10: " : ": ")
        + frames.subList(from, frames.size());
  }

  /**
   * Whether the server has closed the connection: a read sees EOF or a reset within {@code
   * timeout}.
   */
  public boolean closedByPeer(Duration timeout) {
    try {
      readToEnd(timeout);
      return true;
    } catch (AssertionError e) {
      return false;
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  /** One frame as read. */
  public record Frame(int type, int flags, int streamId, byte[] payload, Http2Headers headers) {

    public boolean isGoAway() {
      return type == GOAWAY;
    }

    /** GOAWAY: the last-stream-id. */
    public int lastStreamId() {
      requireType(GOAWAY);
      return ByteBuffer.wrap(payload).getInt() & 0x7fffffff;
    }

    /** GOAWAY or RST_STREAM: the error code. */
    public long errorCode() {
      if (type == GOAWAY) {
        return ByteBuffer.wrap(payload, 4, 4).getInt() & 0xffffffffL;
      }
      requireType(RST_STREAM);
      return ByteBuffer.wrap(payload).getInt() & 0xffffffffL;
    }

    /** GOAWAY: the debug data as text. */
    public String debugText() {
      requireType(GOAWAY);
      return new String(payload, 8, payload.length - 8, StandardCharsets.UTF_8);
    }

    public boolean endStream() {
      return (type == DATA || type == HEADERS) && (flags & FLAG_END_STREAM) != 0;
    }

    private void requireType(int expected) {
      if (type != expected) {
        throw new IllegalStateException("frame type: " + type + " (expected: " + expected + ")");
      }
    }

    @Override
    public String toString() {
      String name =
          switch (type) {
            case DATA -> "DATA";
            case HEADERS ->
                "HEADERS"
                    + (headers == null
                        ? ""
                        : headers.status() == null ? "" : "(" + headers.status() + ")");
            case RST_STREAM -> "RST_STREAM(" + errorCode() + ")";
            case SETTINGS -> "SETTINGS";
            case PING -> "PING";
            case GOAWAY -> "GOAWAY(last=" + lastStreamId() + ", error=" + errorCode() + ")";
            case WINDOW_UPDATE -> "WINDOW_UPDATE";
            default -> "type " + type;
          };
      return name
          + "[stream="
          + streamId
          + ", flags=0x"
          + Integer.toHexString(flags)
          + ", length="
          + payload.length
          + "]";
    }
  }
}
