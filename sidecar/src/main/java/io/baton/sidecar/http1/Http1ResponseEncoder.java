package io.baton.sidecar.http1;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * Encodes responses; knows when one answers a HEAD request, whose response has headers that
 * describe a body it never carries. One request is served at a time, so one flag is enough.
 */
final class Http1ResponseEncoder extends HttpResponseEncoder {

  private boolean answeringHead;

  /** Set before the response head is written. */
  void answeringHead(boolean value) {
    answeringHead = value;
  }

  @Override
  protected boolean isContentAlwaysEmpty(HttpResponse msg) {
    return answeringHead || super.isContentAlwaysEmpty(msg);
  }
}
