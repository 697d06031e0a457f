package io.baton.sidecar.tls;

import io.netty.handler.ssl.OpenSsl;

/**
 * The one check that the OpenSSL (BoringSSL) engine loaded: its native library comes from the
 * netty-tcnative-boringssl-static jar. Checked when a TLS context is first built; the cause is kept
 * for the message.
 */
final class OpenSslEngine {

  private OpenSslEngine() {}

  static void ensureAvailable(String what) {
    if (!OpenSsl.isAvailable()) {
      Throwable cause = OpenSsl.unavailabilityCause();
      throw new TlsSetupException(
          what
              + ": the OpenSSL engine is unavailable (expected netty-tcnative-boringssl-static "
              + "for linux-x86_64 in baton.jar): "
              + (cause == null ? "unknown" : cause.toString()),
          cause);
    }
  }
}
