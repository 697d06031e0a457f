package io.baton.sidecar.http2;

import io.baton.sidecar.metrics.UpstreamErrorReason;
import io.netty.handler.codec.http2.Http2Error;

/**
 * Why an upstream exchange failed: the metrics reason, the HTTP status a plain HTTP/2 client gets
 * before any response started, and the gRPC status a gRPC client gets (grpc-java's mapping of
 * HTTP/2 errors, {@code GrpcUtil.Http2Error}: a refused stream or a lost connection is UNAVAILABLE,
 * CANCEL is CANCELLED, ENHANCE_YOUR_CALM is RESOURCE_EXHAUSTED, the rest INTERNAL).
 */
record UpstreamFailure(
    UpstreamErrorReason reason,
    int httpStatus,
    int grpcStatus,
    Http2Error resetCode,
    String detail) {

  static final int GRPC_CANCELLED = 1;
  static final int GRPC_RESOURCE_EXHAUSTED = 8;
  static final int GRPC_INTERNAL = 13;
  static final int GRPC_UNAVAILABLE = 14;

  static UpstreamFailure connect(UpstreamErrorReason reason, String detail) {
    return new UpstreamFailure(reason, 502, GRPC_UNAVAILABLE, Http2Error.REFUSED_STREAM, detail);
  }

  static UpstreamFailure noEndpoint(String detail) {
    return new UpstreamFailure(
        UpstreamErrorReason.NO_ENDPOINT, 503, GRPC_UNAVAILABLE, Http2Error.REFUSED_STREAM, detail);
  }

  static UpstreamFailure timeout(String detail) {
    // grpc-java maps HTTP 504 to UNAVAILABLE; the call's own deadline (grpc-timeout) is the
    // upstream's business.
    return new UpstreamFailure(
        UpstreamErrorReason.RESPONSE_TIMEOUT, 504, GRPC_UNAVAILABLE, Http2Error.CANCEL, detail);
  }

  static UpstreamFailure lost(String detail) {
    return new UpstreamFailure(
        UpstreamErrorReason.CONNECTION_LOST,
        502,
        GRPC_UNAVAILABLE,
        Http2Error.INTERNAL_ERROR,
        detail);
  }

  static UpstreamFailure protocol(String detail) {
    return new UpstreamFailure(
        UpstreamErrorReason.PROTOCOL_ERROR, 502, GRPC_INTERNAL, Http2Error.PROTOCOL_ERROR, detail);
  }

  /** The upstream reset the stream with {@code code}. */
  static UpstreamFailure reset(long code, String detail) {
    Http2Error error = Http2Error.valueOf(code);
    int grpc;
    if (error == Http2Error.REFUSED_STREAM || error == Http2Error.NO_ERROR) {
      grpc = GRPC_UNAVAILABLE;
    } else if (error == Http2Error.CANCEL) {
      grpc = GRPC_CANCELLED;
    } else if (error == Http2Error.ENHANCE_YOUR_CALM) {
      grpc = GRPC_RESOURCE_EXHAUSTED;
    } else {
      grpc = GRPC_INTERNAL;
    }
    return new UpstreamFailure(
        UpstreamErrorReason.CONNECTION_LOST,
        502,
        grpc,
        error == null ? Http2Error.INTERNAL_ERROR : error,
        detail);
  }
}
