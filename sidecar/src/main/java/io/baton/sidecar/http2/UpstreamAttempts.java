package io.baton.sidecar.http2;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.upstream.UpstreamChoice;
import io.baton.sidecar.upstream.UpstreamConnector;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream side of one client stream: which member of the listener's cluster gets the request,
 * the {@link UpstreamCall} to it (h2c or HTTP/1.1, as the cluster speaks), and where a request the
 * upstream never processed goes next. One stream's event loop uses it.
 */
final class UpstreamAttempts {

  /** The proxy's logger: these lines were the proxy's before it was split, and keep its name. */
  private static final Logger log = LoggerFactory.getLogger(Http2StreamProxy.class);

  /** Attempts for one request after the first (members refusing, connections going away). */
  static final int MAX_RETRIES = 3;

  private final ListenerContext context;
  private final EventLoop loop;
  private final UpstreamCall.Listener listener;
  private final UpstreamChoice upstreams;
  private int retries;

  UpstreamAttempts(ListenerContext context, EventLoop loop, UpstreamCall.Listener listener) {
    this.context = context;
    this.loop = loop;
    this.listener = listener;
    this.upstreams = new UpstreamChoice(context.cluster());
  }

  /** The member for the first attempt, or null if the cluster has none. */
  HostPort first() {
    return upstreams.first().orElse(null);
  }

  /** The member of the attempt under way: what log lines name. */
  HostPort current() {
    return upstreams.current();
  }

  /**
   * Starts the exchange with {@code to}, sending whatever of the request arrived so far (kept by
   * {@code replay}).
   */
  UpstreamCall call(HostPort to, RequestHeaders request, RequestReplay replay) {
    UpstreamCall call =
        context.clusterConfig().protocol().http2()
            ? new H2cUpstreamCall(
                context.cluster(), loop, to, request.forAttempt(), request.headersOnly(), listener)
            : new Http1UpstreamCall(
                context.cluster(), loop, to, request.forAttempt(), request.headersOnly(), listener);
    replay.replayTo(call);
    return call;
  }

  /**
   * Where to send a request the upstream never processed ({@code failure}), or null if nowhere:
   * retries used up, or the request no longer kept whole ({@code replayable} false), or no member
   * left. A refused stream may go to the same member again (a new connection); a member that
   * refused the connection is not tried again for this request. Logs and counts the retry.
   */
  HostPort retryTarget(UpstreamFailure failure, boolean replayable) {
    boolean connectFailure = UpstreamConnector.memberUnreachable(failure.reason());
    if (connectFailure) {
      upstreams.markUnreachable();
    }
    HostPort next =
        !replayable || retries >= MAX_RETRIES
            ? null
            : connectFailure
                ? upstreams.nextReachable().orElse(null)
                : upstreams.nextAny().orElse(null);
    if (next == null) {
      return null;
    }
    retries++;
    context.clusterMetrics().upstreamError(failure.reason());
    log.warn(
        "listener {} cluster {} endpoint {}: {} ({}), sending the stream to {}",
        context.name(),
        context.cluster().name(),
        upstreams.current(),
        failure.reason().label(),
        failure.detail(),
        next);
    upstreams.retryOn(next);
    return next;
  }

  void recordFailure() {
    upstreams.recordFailure();
  }

  void recordSuccess() {
    upstreams.recordSuccess();
  }
}
