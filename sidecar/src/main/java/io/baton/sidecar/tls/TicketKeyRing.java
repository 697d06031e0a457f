package io.baton.sidecar.tls;

import io.netty.handler.ssl.OpenSslSessionTicketKey;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The session-ticket keys of one TLS listener, newest first: the first encrypts the tickets this
 * process issues, every one decrypts tickets clients present (OpenSSL tries them by key name).
 * Immutable. {@link #toString()} shows how many keys there are, never a byte of them.
 */
public final class TicketKeyRing {

  /** OpenSSL's layout: 16 bytes name, 16 bytes HMAC secret, 16 bytes AES key. */
  public static final int KEY_SIZE = OpenSslSessionTicketKey.TICKET_KEY_SIZE;

  /**
   * Keys kept from predecessors, besides this generation's own: a ticket issued up to this many
   * handoffs ago still resumes; an older one costs its client one full handshake.
   */
  public static final int KEPT_FROM_PREDECESSORS = 2;

  private final List<byte[]> keys;

  private TicketKeyRing(List<byte[]> keys) {
    this.keys = keys;
  }

  /**
   * A ring of one fresh random key: a cold start, or a listener the predecessor had no keys for.
   */
  public static TicketKeyRing fresh(SecureRandom random) {
    return new TicketKeyRing(List.of(newKey(random)));
  }

  /**
   * The ring of a successor: a fresh key first (tickets it issues are its own), then the
   * predecessor's newest keys (tickets already issued still decrypt).
   *
   * @throws IllegalArgumentException when a carried key is not {@link #KEY_SIZE} bytes
   */
  public static TicketKeyRing succeeding(List<byte[]> predecessors, SecureRandom random) {
    List<byte[]> keys = new ArrayList<>();
    keys.add(newKey(random));
    for (int i = 0; i < predecessors.size() && i < KEPT_FROM_PREDECESSORS; i++) {
      byte[] k = predecessors.get(i);
      if (k.length != KEY_SIZE) {
        throw new IllegalArgumentException(
            "ticket key " + i + ": " + k.length + " bytes (expected " + KEY_SIZE + ")");
      }
      keys.add(k.clone());
    }
    return new TicketKeyRing(List.copyOf(keys));
  }

  private static byte[] newKey(SecureRandom random) {
    byte[] key = new byte[KEY_SIZE];
    random.nextBytes(key);
    return key;
  }

  /** Copies of the keys, newest first, to hand to a successor. */
  public List<byte[]> keys() {
    return keys.stream().map(byte[]::clone).toList();
  }

  public int size() {
    return keys.size();
  }

  /** The keys as Netty hands them to OpenSSL's SSL_CTX. */
  OpenSslSessionTicketKey[] toOpenSsl() {
    int name = OpenSslSessionTicketKey.NAME_SIZE;
    int hmac = OpenSslSessionTicketKey.HMAC_KEY_SIZE;
    return keys.stream()
        .map(
            k ->
                new OpenSslSessionTicketKey(
                    Arrays.copyOfRange(k, 0, name),
                    Arrays.copyOfRange(k, name, name + hmac),
                    Arrays.copyOfRange(k, name + hmac, KEY_SIZE)))
        .toArray(OpenSslSessionTicketKey[]::new);
  }

  @Override
  public String toString() {
    return "TicketKeyRing[" + keys.size() + " key(s)]";
  }
}
