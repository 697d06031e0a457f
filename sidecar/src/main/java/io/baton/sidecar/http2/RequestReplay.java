package io.baton.sidecar.http2;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.ArrayList;
import java.util.List;

/**
 * The request frames sent to the upstream so far (DATA as retained duplicates, trailers), kept
 * while a retry may need them: until the response starts, the stream ends, or they exceed {@link
 * #MAX_BYTES} (then the request is not retried). One stream's event loop uses it.
 */
final class RequestReplay {

  /** Request body kept to send again if the upstream refuses the stream; above it, no retry. */
  static final int MAX_BYTES = 64 * 1024;

  private record Data(ByteBuf data, boolean endStream) {}

  /** Null once dropped: nothing is kept any more. */
  private List<Object> frames = new ArrayList<>(2);

  private int bytes;

  /** Whether everything sent so far is still kept, so the request can go again. */
  boolean complete() {
    return frames != null;
  }

  /** Keeps a retained duplicate of {@code data} (the caller keeps its own reference). */
  void data(ByteBuf data, boolean endStream) {
    if (frames != null) {
      keep(new Data(data.retainedDuplicate(), endStream), data.readableBytes());
    }
  }

  void trailers(Http2Headers trailers) {
    if (frames != null) {
      keep(trailers, 0);
    }
  }

  private void keep(Object frame, int size) {
    bytes += size;
    frames.add(frame);
    if (bytes > MAX_BYTES) {
      drop(); // too much to keep: this request is not retried
    }
  }

  /** Sends everything kept to {@code call}, which gets its own references. */
  void replayTo(UpstreamCall call) {
    if (frames == null) {
      return;
    }
    for (Object o : frames) {
      if (o instanceof Data d) {
        call.data(d.data().retainedDuplicate(), d.endStream());
      } else {
        call.trailers((Http2Headers) o);
      }
    }
  }

  /** Releases everything kept; no retry after this. */
  void drop() {
    if (frames != null) {
      for (Object o : frames) {
        if (o instanceof Data d) {
          d.data().release();
        }
      }
      frames = null;
    }
  }
}
