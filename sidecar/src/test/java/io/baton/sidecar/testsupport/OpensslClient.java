package io.baton.sidecar.testsupport;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One HTTPS request with {@code openssl s_client}: an independent TLS client that says whether it
 * resumed a session ({@code Reused} vs {@code New}), which protocol ALPN chose, and which
 * certificate the server sent. The request says {@code Connection: close}, so the server ends the
 * connection after its answer.
 */
public final class OpensslClient {

  /** What s_client printed: the session summary and the response, together. */
  public record Result(String output) {

    /** Whether the handshake resumed a session ("Reused, TLSv1.3, ..."). */
    public boolean reused() {
      return output.contains("\nReused, ");
    }

    /** Whether it was a full handshake ("New, TLSv1.3, ..."). */
    public boolean fresh() {
      return output.contains("\nNew, ");
    }

    /** The protocol ALPN chose, or null ("No ALPN negotiated"). */
    public String alpn() {
      int at = output.indexOf("ALPN protocol: ");
      return at < 0
          ? null
          : output.substring(at + "ALPN protocol: ".length()).lines().findFirst().orElse("").trim();
    }

    /** The status line of the HTTP response, or null when none came. */
    public String statusLine() {
      return output.lines().filter(l -> l.startsWith("HTTP/1.1 ")).findFirst().orElse(null);
    }

    /**
     * The server's certificate, PEM ("-----BEGIN CERTIFICATE-----" ... "-----END
     * CERTIFICATE-----").
     */
    public String serverCertificate() {
      int begin = output.indexOf("-----BEGIN CERTIFICATE-----");
      int end = output.indexOf("-----END CERTIFICATE-----");
      return begin < 0 || end < 0
          ? null
          : output.substring(begin, end + "-----END CERTIFICATE-----".length());
    }
  }

  private OpensslClient() {}

  /**
   * {@code GET path} on 127.0.0.1:{@code port} over TLS (SNI localhost).
   *
   * @param sessionIn a session saved by an earlier call to offer for resumption, or null
   * @param sessionOut where to save this connection's session (ticket), or null
   * @param alpn the ALPN list to offer ({@code h2,http/1.1}), or null for none
   */
  public static Result get(int port, String path, Path sessionIn, Path sessionOut, String alpn) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + port,
                "-servername",
                "localhost",
                "-ign_eof"));
    if (sessionIn != null) {
      cmd.addAll(List.of("-sess_in", sessionIn.toString()));
    }
    if (sessionOut != null) {
      cmd.addAll(List.of("-sess_out", sessionOut.toString()));
    }
    if (alpn != null) {
      cmd.addAll(List.of("-alpn", alpn));
    }
    String request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    Path output = null;
    try {
      // Output to a file, not a pipe: a server that never closes cannot block the read past the
      // deadline.
      output = Files.createTempFile("s_client-", ".out");
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
      try (OutputStream in = p.getOutputStream()) {
        in.write(request.getBytes(StandardCharsets.US_ASCII));
      }
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            cmd
                + ": did not finish within 30 s: "
                + Files.readString(output, StandardCharsets.ISO_8859_1));
      }
      return new Result(Files.readString(output, StandardCharsets.ISO_8859_1));
    } catch (IOException e) {
      throw new IllegalStateException(
          "openssl: cannot run (expected it on PATH: scripts/install-test-deps.sh installs Debian "
              + "package openssl): "
              + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } finally {
      if (output != null) {
        output.toFile().delete();
      }
    }
  }
}
