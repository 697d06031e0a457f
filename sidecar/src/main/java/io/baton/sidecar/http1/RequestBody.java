package io.baton.sidecar.http1;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import java.util.ArrayList;
import java.util.List;

/**
 * The body of one request on its way upstream: held while the upstream connection opens, then
 * streamed with backpressure, the client read only as fast as the upstream takes it. Runs on the
 * connection's event loop.
 */
final class RequestBody {

  private final Channel client;

  /** Chunks read before the upstream channel was at hand; created by the first such chunk. */
  private List<HttpContent> held;

  RequestBody(Channel client) {
    this.client = client;
  }

  /** Sends {@code content} on {@code upstream}, or holds it while there is none yet. */
  void forward(HttpContent content, Channel upstream) {
    if (upstream == null) {
      if (held == null) {
        held = new ArrayList<>();
      }
      held.add(content);
      return;
    }
    upstream.writeAndFlush(content);
    if (!upstream.isWritable()) {
      client.config().setAutoRead(false);
    }
  }

  /** Writes the held chunks on {@code upstream}, unflushed; returns whether there were any. */
  boolean writeHeld(Channel upstream) {
    if (held == null || held.isEmpty()) {
      return false;
    }
    held.forEach(upstream::write);
    held.clear();
    return true;
  }

  /** The request will not be sent: releases the held chunks. */
  void discard() {
    if (held != null) {
      held.forEach(HttpContent::release);
      held.clear();
    }
  }

  /** Reads the client while the body streams to {@code upstream} only when it takes more. */
  void followUpstream(Channel upstream) {
    client.config().setAutoRead(upstream.isWritable());
  }
}
