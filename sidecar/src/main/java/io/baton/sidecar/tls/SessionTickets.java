package io.baton.sidecar.tls;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.baton.proto.tls.v1.ListenerTicketKeys;
import io.baton.proto.tls.v1.SessionTicketKeys;
import java.security.SecureRandom;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ticket keys of every TLS listener of this process: made from what the predecessor carried
 * (its {@link SessionTicketKeys} in the handoff's carried state) or fresh, and carried to the
 * successor the same way. Built once at start-up, then read-only.
 */
public final class SessionTickets {

  private static final Logger log = LoggerFactory.getLogger(SessionTickets.class);

  private final Map<String, TicketKeyRing> rings;

  private SessionTickets(Map<String, TicketKeyRing> rings) {
    this.rings = rings;
  }

  /**
   * The rings of {@code tlsListeners}: each continues the predecessor's keys of the listener of the
   * same name, found in {@code carriedState} (other kinds of state are skipped); a listener with
   * none carried starts with a fresh key.
   */
  public static SessionTickets start(
      List<Any> carriedState, Collection<String> tlsListeners, SecureRandom random) {
    Map<String, List<byte[]>> carried = unpack(carriedState);
    Map<String, TicketKeyRing> rings = new LinkedHashMap<>();
    for (String listener : tlsListeners) {
      List<byte[]> previous = carried.get(listener);
      TicketKeyRing ring;
      if (previous == null) {
        ring = TicketKeyRing.fresh(random);
      } else {
        try {
          ring = TicketKeyRing.succeeding(previous, random);
        } catch (IllegalArgumentException e) {
          log.warn(
              "listener {}: the predecessor's session-ticket keys are unusable ({}); fresh keys,"
                  + " clients do a full handshake once",
              listener,
              e.getMessage());
          ring = TicketKeyRing.fresh(random);
        }
      }
      log.info(
          "listener {}: TLS session-ticket keys: {} (1 new, {} from the predecessor)",
          listener,
          ring,
          ring.size() - 1);
      rings.put(listener, ring);
    }
    return new SessionTickets(Map.copyOf(rings));
  }

  /** Nothing carried, no TLS listener. */
  public static SessionTickets none() {
    return new SessionTickets(Map.of());
  }

  private static Map<String, List<byte[]>> unpack(List<Any> carriedState) {
    Map<String, List<byte[]>> byListener = new HashMap<>();
    for (Any any : carriedState) {
      if (!any.is(SessionTicketKeys.class)) {
        continue; // another kind of state: not ours to read
      }
      try {
        for (ListenerTicketKeys l : any.unpack(SessionTicketKeys.class).getListenersList()) {
          byListener.put(
              l.getListener(), l.getKeysList().stream().map(ByteString::toByteArray).toList());
        }
      } catch (InvalidProtocolBufferException e) {
        // The message's text only, never its bytes: they are keys.
        log.warn(
            "the predecessor's session-ticket keys cannot be read ({}): fresh keys",
            e.getMessage());
      }
    }
    return byListener;
  }

  /** The ring of {@code listener}. */
  public TicketKeyRing ring(String listener) {
    TicketKeyRing ring = rings.get(listener);
    if (ring == null) {
      throw new IllegalArgumentException(
          "listener " + listener + ": no session-ticket keys (expected a TLS listener)");
    }
    return ring;
  }

  /** What the successor continues from; nothing when there is no TLS listener. */
  public List<Any> carriedState() {
    if (rings.isEmpty()) {
      return List.of();
    }
    SessionTicketKeys.Builder message = SessionTicketKeys.newBuilder();
    rings.forEach(
        (listener, ring) ->
            message.addListeners(
                ListenerTicketKeys.newBuilder()
                    .setListener(listener)
                    .addAllKeys(ring.keys().stream().map(ByteString::copyFrom).toList())));
    return List.of(Any.pack(message.build()));
  }

  @Override
  public String toString() {
    return "SessionTickets" + rings;
  }
}
