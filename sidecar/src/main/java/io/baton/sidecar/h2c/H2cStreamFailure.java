package io.baton.sidecar.h2c;

import io.baton.sidecar.metrics.UpstreamErrorReason;

/**
 * Why the h2c pool gave no stream; either way the member never saw the request.
 *
 * @param connect true when the member could not be reached (connect failed, or it closed before its
 *     SETTINGS; already counted against it), false when the connection went away before the stream
 *     opened
 */
public record H2cStreamFailure(UpstreamErrorReason reason, String detail, boolean connect) {

  static H2cStreamFailure connect(UpstreamErrorReason reason, String detail) {
    return new H2cStreamFailure(reason, detail, true);
  }

  static H2cStreamFailure lost(String detail) {
    return new H2cStreamFailure(UpstreamErrorReason.CONNECTION_LOST, detail, false);
  }
}
