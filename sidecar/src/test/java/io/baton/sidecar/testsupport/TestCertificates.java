package io.baton.sidecar.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Self-signed certificates made at test time with the {@code openssl} command (Debian package
 * {@code openssl}, installed by scripts/install-test-deps.sh): no key is committed, and no
 * BouncyCastle is needed (Netty's SelfSignedCertificate falls back to JDK internals that JDK 17
 * does not open). EC P-256 keys: generated in milliseconds.
 */
public final class TestCertificates {

  /** A certificate file and its key file, PEM (the key PKCS#8, as OpenSSL 3 writes it). */
  public record Pair(Path certificate, Path privateKey) {}

  private TestCertificates() {}

  /**
   * A self-signed certificate for {@code CN=commonName}, valid for DNS {@code localhost} and IP
   * 127.0.0.1, written as {@code dir/<name>.crt} and {@code dir/<name>.key}.
   */
  public static Pair selfSigned(Path dir, String name, String commonName) {
    Path cert = dir.resolve(name + ".crt");
    Path key = dir.resolve(name + ".key");
    run(
        List.of(
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            key.toString(),
            "-out",
            cert.toString(),
            "-days",
            "2",
            "-subj",
            "/CN=" + commonName,
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1"));
    return new Pair(cert, key);
  }

  /** Runs {@code openssl} to its end (at most 30 s); its output on failure. */
  public static String run(List<String> command) {
    List<String> cmd = new ArrayList<>(command);
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(cmd + ": did not finish within 30 s");
      }
      String text = new String(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException(cmd + ": exit " + p.exitValue() + ": " + text);
      }
      return text;
    } catch (IOException e) {
      throw new IllegalStateException(
          cmd.get(0)
              + ": cannot run (expected it on PATH: scripts/install-test-deps.sh "
              + "installs Debian package openssl): "
              + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
