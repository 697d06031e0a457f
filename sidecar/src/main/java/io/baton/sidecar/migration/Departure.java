package io.baton.sidecar.migration;

import io.netty.channel.Channel;
import java.util.List;

/**
 * One connection at a clean boundary, ready to go to the successor.
 *
 * @param kind its protocol's kind
 * @param listener the name of the listener that accepted it
 * @param channels the client's channel, then (for a pair) the upstream's; all on one event loop
 * @param unconsumed bytes read from the client and not served, to be served first by the successor
 * @param upstreamEndpoint the {@code host:port} of the upstream channel of a pair; empty otherwise
 */
public record Departure(
    MovableKind kind,
    String listener,
    List<Channel> channels,
    byte[] unconsumed,
    String upstreamEndpoint) {

  public Departure {
    channels = List.copyOf(channels);
  }

  public Channel client() {
    return channels.get(0);
  }
}
