package io.baton.sidecar.http2;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;

/**
 * A client that writes HTTP/2 frames by hand and reads what comes back frame by frame: for what a
 * well-behaved client never does (ignore GOAWAY, skip a PING ack, send garbage). Blocking I/O on
 * the test thread, every read with a deadline.
 */
final class RawH2Connection implements AutoCloseable {

  static final int DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8;
  static final int END_STREAM = 0x1, END_HEADERS = 0x4, ACK = 0x1;

  /** One frame as read. */
  record Frame(int type, int flags, int streamId, byte[] payload) {
    int goAwayLastStreamId() {
      return ByteBuffer.wrap(payload).getInt() & 0x7fffffff;
    }

    long goAwayErrorCode() {
      return ByteBuffer.wrap(payload, 4, 4).getInt() & 0xffffffffL;
    }

    long rstErrorCode() {
      return ByteBuffer.wrap(payload).getInt() & 0xffffffffL;
    }

    @Override
    public String toString() {
      return "Frame[type " + type + ", flags " + flags + ", stream " + streamId + ", " + payload.length + " bytes]";
    }
  }

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;
  private final DefaultHttp2HeadersEncoder hpack = new DefaultHttp2HeadersEncoder();

  RawH2Connection(InetSocketAddress proxy) throws IOException {
    this(proxy, 0);
  }

  /** @param receiveBuffer SO_RCVBUF before connecting (small: the server's writes back up at once), 0 for the default */
  RawH2Connection(InetSocketAddress proxy, int receiveBuffer) throws IOException {
    socket = new Socket();
    if (receiveBuffer > 0) {
      socket.setReceiveBufferSize(receiveBuffer);
    }
    socket.connect(proxy, 5000);
    socket.setSoTimeout(10_000);
    out = socket.getOutputStream();
    in = new DataInputStream(socket.getInputStream());
  }

  /** The client preface and an empty SETTINGS frame. */
  RawH2Connection start() throws IOException {
    ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
    byte[] bytes = new byte[preface.readableBytes()];
    preface.getBytes(preface.readerIndex(), bytes);
    out.write(bytes);
    frame(SETTINGS, 0, 0, new byte[0]);
    return this;
  }

  void frame(int type, int flags, int streamId, byte[] payload) throws IOException {
    out.write(frameBytes(type, flags, streamId, payload));
    out.flush();
  }

  static byte[] frameBytes(int type, int flags, int streamId, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(9 + payload.length);
    b.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length);
    b.put((byte) type).put((byte) flags).putInt(streamId).put(payload);
    return b.array();
  }

  void headers(int streamId, Http2Headers headers, boolean endStream) throws Exception {
    ByteBuf block = Unpooled.buffer();
    hpack.encodeHeaders(streamId, headers, block);
    byte[] bytes = new byte[block.readableBytes()];
    block.readBytes(bytes);
    block.release();
    frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), streamId, bytes);
  }

  void settingsAck() throws IOException {
    frame(SETTINGS, ACK, 0, new byte[0]);
  }

  /** The next frame, or null at EOF. */
  Frame read() throws IOException {
    byte[] head = new byte[9];
    try {
      in.readFully(head);
    } catch (EOFException e) {
      return null;
    }
    int length = ((head[0] & 0xff) << 16) | ((head[1] & 0xff) << 8) | (head[2] & 0xff);
    int streamId = ByteBuffer.wrap(head, 5, 4).getInt() & 0x7fffffff;
    byte[] payload = new byte[length];
    in.readFully(payload);
    return new Frame(head[3] & 0xff, head[4] & 0xff, streamId, payload);
  }

  /** Reads until a frame of {@code type} (skipping SETTINGS, WINDOW_UPDATE and the like); null at EOF. */
  Frame readUntil(int type) throws IOException {
    Frame f;
    while ((f = read()) != null && f.type() != type) {
      if (f.type() == SETTINGS && (f.flags() & ACK) == 0) {
        try {
          settingsAck();
        } catch (IOException e) {
          // The server may have closed already (its GOAWAY is still to be read): the ack is moot.
        }
      }
    }
    return f;
  }

  /** Whether the server closed the connection (EOF) after whatever frames are still to be read. */
  boolean readsToEof() throws IOException {
    try {
      while (read() != null) {
        // skip
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset by the server: closed as well
    }
  }

  /** Reads every frame until the server closes; whether one of them was a GOAWAY with {@code errorCode}. */
  boolean sawGoawayBeforeClose(long errorCode) throws IOException {
    boolean seen = false;
    try {
      Frame f;
      while ((f = read()) != null) {
        seen |= f.type() == GOAWAY && f.goAwayErrorCode() == errorCode;
      }
    } catch (SocketTimeoutException e) {
      throw e;
    } catch (IOException e) {
      // reset by the server: closed
    }
    return seen;
  }

  OutputStream output() {
    return out;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
