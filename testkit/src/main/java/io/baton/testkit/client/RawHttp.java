package io.baton.testkit.client;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A bare HTTP/1.1 client connection: the test writes exactly the bytes it wants and reads responses
 * one by one. No retries, no reconnects, nothing hidden.
 */
public final class RawHttp implements AutoCloseable {

  /** One response; the body is either kept or only digested, for big downloads. */
  public record Response(
      int status, Map<String, String> headers, byte[] body, long bodyLength, String sha256) {
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public boolean closes() {
      return "close".equalsIgnoreCase(header("connection"));
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  public RawHttp(InetSocketAddress address) throws IOException {
    this(address, 64 * 1024);
  }

  /**
   * With a read buffer of {@code bufferBytes}: small for tests that hold thousands of connections.
   */
  public RawHttp(InetSocketAddress address, int bufferBytes) throws IOException {
    this(connected(address), bufferBytes);
  }

  /** Over a socket already connected, e.g. a TLS one from {@link TlsClient#connect}. */
  public RawHttp(Socket connected, int bufferBytes) throws IOException {
    socket = connected;
    socket.setSoTimeout(30_000);
    in = new BufferedInputStream(socket.getInputStream(), bufferBytes);
    out = socket.getOutputStream();
  }

  private static Socket connected(InetSocketAddress address) throws IOException {
    Socket s = new Socket();
    try {
      s.connect(address, 5000);
    } catch (IOException e) {
      s.close();
      throw e;
    }
    return s;
  }

  public void send(String text) throws IOException {
    send(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  public void send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  public OutputStream output() {
    return out;
  }

  /** Bytes received and not read yet (in this client's buffer and the socket's): FIONREAD. */
  public int bytesWaiting() throws IOException {
    return in.available();
  }

  public void shutdownOutput() throws IOException {
    socket.shutdownOutput();
  }

  /** Reads one response, keeping its body. */
  public Response read() throws IOException {
    return read(true);
  }

  /**
   * Reads the status line and headers of a response that has no body whatever its headers say (the
   * answer to HEAD).
   */
  public Response readHead() throws IOException {
    Response head = readStatusAndHeaders();
    return new Response(head.status(), head.headers(), new byte[0], 0, "");
  }

  /** Reads one response; with {@code keepBody} false the body is only counted and digested. */
  public Response read(boolean keepBody) throws IOException {
    Response head = readStatusAndHeaders();
    int status = head.status();
    Map<String, String> headers = head.headers();
    if (status / 100 == 1) {
      return new Response(status, headers, new byte[0], 0, "");
    }
    return readBody(status, headers, keepBody);
  }

  private Response readStatusAndHeaders() throws IOException {
    String statusLine = line();
    if (statusLine == null) {
      throw new IOException("connection closed before a status line");
    }
    String[] parts = statusLine.split(" ", 3);
    int status = Integer.parseInt(parts[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String l = line(); l != null && !l.isEmpty(); l = line()) {
      int colon = l.indexOf(':');
      headers.merge(
          l.substring(0, colon).trim().toLowerCase(Locale.ROOT),
          l.substring(colon + 1).trim(),
          (a, b) -> a + ", " + b);
    }
    return new Response(status, headers, new byte[0], 0, "");
  }

  private Response readBody(int status, Map<String, String> headers, boolean keepBody)
      throws IOException {
    MessageDigest sha = sha256();
    ByteArrayOutputStream kept = new ByteArrayOutputStream();
    long length = 0;
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      while (true) {
        String size = line();
        int n = Integer.parseInt(size.split(";")[0].trim(), 16);
        if (n == 0) {
          for (String t = line(); t != null && !t.isEmpty(); t = line()) {
            // trailers: ignored
          }
          break;
        }
        length += copy(n, sha, keepBody ? kept : null);
        line();
      }
    } else if (headers.containsKey("content-length")) {
      length = copy(Long.parseLong(headers.get("content-length")), sha, keepBody ? kept : null);
    }
    return new Response(
        status, headers, kept.toByteArray(), length, HexFormat.of().formatHex(sha.digest()));
  }

  /** True if the server closed the connection (EOF) within the socket timeout. */
  public boolean awaitEof() throws IOException {
    return in.read() == -1;
  }

  private long copy(long n, MessageDigest sha, ByteArrayOutputStream kept) throws IOException {
    byte[] buf = new byte[(int) Math.min(64 * 1024, Math.max(n, 1))];
    long left = n;
    while (left > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (r < 0) {
        throw new IOException("EOF with " + left + " body bytes still expected");
      }
      sha.update(buf, 0, r);
      if (kept != null) {
        kept.write(buf, 0, r);
      }
      left -= r;
    }
    return n;
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
