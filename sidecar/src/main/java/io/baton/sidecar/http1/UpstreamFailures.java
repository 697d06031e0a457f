package io.baton.sidecar.http1;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.metrics.UpstreamErrorReason;
import io.baton.sidecar.upstream.UpstreamChoice;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an upstream failure does to an exchange of one client connection: another member when
 * nothing of the request was sent, an error response when the response has not started, the
 * connection's end when it has. Each failure is counted against the member when it says something
 * about it, counted in the cluster's error metrics, and logged once.
 */
final class UpstreamFailures {

  /** Logs as the handler did before this class was split from it: operators filter on that name. */
  private static final Logger log = LoggerFactory.getLogger(Http1ProxyHandler.class);

  private final ListenerContext context;
  private final ClientConnection connection;

  UpstreamFailures(ListenerContext context, ClientConnection connection) {
    this.context = context;
    this.connection = connection;
  }

  /**
   * Nothing of the request was sent: another member that this request has not tried takes it
   * (nginx's {@code proxy_next_upstream error timeout}); when none is left, 502. A cluster of one
   * member answers 502 at once, as before members could change.
   *
   * @param record whether to count the failure against the member (the h2c pool counted it already)
   */
  void connectFailed(
      Exchange connecting, UpstreamErrorReason reason, String detail, boolean record) {
    UpstreamChoice upstreams = connecting.upstreams;
    if (record) {
      upstreams.recordFailure();
    }
    upstreams.markUnreachable();
    HostPort next = upstreams.nextReachable().orElse(null);
    if (next == null) {
      failBeforeResponse(connecting, reason, HttpResponseStatus.BAD_GATEWAY, detail);
      return;
    }
    context.clusterMetrics().upstreamError(reason);
    log.warn(
        "listener {} cluster {} endpoint {}: {} ({}), trying {}",
        context.name(),
        context.cluster().name(),
        upstreams.current(),
        reason.label(),
        detail,
        next);
    upstreams.retryOn(next);
    connection.sendTo(next);
  }

  /** The request was sent and no response started within the cluster's request timeout. */
  void responseTimedOut(Exchange awaiting) {
    long timeoutMillis = context.clusterConfig().requestTimeout().toMillis();
    awaiting.upstreams.recordFailure();
    failBeforeResponse(
        awaiting,
        UpstreamErrorReason.RESPONSE_TIMEOUT,
        HttpResponseStatus.GATEWAY_TIMEOUT,
        "upstream " + awaiting.endpoint() + " did not answer within " + timeoutMillis + " ms");
  }

  /** The upstream channel closed before the response was complete. */
  void upstreamClosed(Exchange current) {
    // A pooled connection the upstream closed while reusing it (its idle timeout was shorter than
    // ours) says nothing bad about the member: counting it would skip a healthy member.
    // An h2c stream that ends early is the stream's matter (a refusal, a reset), and the h2c pool
    // counts the member's connect failures itself.
    if (!current.responseStarted && !current.reusedConnection && !current.singleUse) {
      current.upstreams.recordFailure();
    }
    upstreamLost(current, "upstream " + current.endpoint() + " closed the connection");
  }

  /** Answers {@code status} instead of the upstream, which gave no response. */
  void failBeforeResponse(
      Exchange current, UpstreamErrorReason reason, HttpResponseStatus status, String detail) {
    context.clusterMetrics().upstreamError(reason);
    log.warn(
        "listener {} cluster {} endpoint {}: {} ({}), answering {}",
        context.name(),
        context.cluster().name(),
        current.endpoint(),
        reason.label(),
        detail,
        status.code());
    current.dropUpstream();
    current.answer(status, status.reasonPhrase() + ": " + detail + "\n", false);
  }

  /** The exchange cannot go on: an error response if none started, else the connection's end. */
  void upstreamLost(Exchange current, String detail) {
    if (!current.responseStarted) {
      failBeforeResponse(
          current, UpstreamErrorReason.CONNECTION_LOST, HttpResponseStatus.BAD_GATEWAY, detail);
      return;
    }
    // Headers are out: the client can only learn of it by the connection closing.
    context.clusterMetrics().upstreamError(UpstreamErrorReason.CONNECTION_LOST);
    log.warn(
        "listener {} cluster {} endpoint {}: connection_lost mid-response ({}), closing the"
            + " client connection",
        context.name(),
        context.cluster().name(),
        current.endpoint(),
        detail);
    context.metrics().requestFinished(0);
    current.releaseUpstream(false);
    connection.abort();
  }
}
