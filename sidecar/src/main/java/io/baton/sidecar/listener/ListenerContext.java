package io.baton.sidecar.listener;

import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.config.DrainConfig;
import io.baton.sidecar.config.ListenerConfig;
import io.baton.sidecar.drain.DrainState;
import io.baton.sidecar.metrics.ClusterMetrics;
import io.baton.sidecar.metrics.ListenerMetrics;
import io.baton.sidecar.upstream.Cluster;
import java.time.Duration;

/**
 * What a protocol handler of one listener needs from the rest of the process.
 *
 * @param generation this process's generation, for the optional {@code X-Baton-Generation} header
 * @param servingHeader whether to add that header to proxied responses
 * @param http2GoawayDelay how long a draining HTTP/2 connection waits for the PING ack between its
 *     first and final GOAWAY
 */
public record ListenerContext(
    ListenerConfig listener,
    Cluster cluster,
    ListenerMetrics metrics,
    DrainState drain,
    long generation,
    boolean servingHeader,
    Duration http2GoawayDelay) {

  /**
   * Names the generation that answered, when {@code admin.servingHeader} is on (HTTP/1.1 and
   * HTTP/2).
   */
  public static final String GENERATION_HEADER = "X-Baton-Generation";

  public ListenerContext(
      ListenerConfig listener,
      Cluster cluster,
      ListenerMetrics metrics,
      DrainState drain,
      long generation,
      boolean servingHeader) {
    this(
        listener,
        cluster,
        metrics,
        drain,
        generation,
        servingHeader,
        DrainConfig.DEFAULT_HTTP2_GOAWAY_DELAY);
  }

  public String name() {
    return listener.name();
  }

  public ClusterConfig clusterConfig() {
    return cluster.config();
  }

  public ClusterMetrics clusterMetrics() {
    return cluster.metrics();
  }
}
