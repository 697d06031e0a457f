package io.baton.sidecar.http2;

import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import java.util.ArrayDeque;

/**
 * The stream ids a client opened on one connection: enough to tell a HEADERS frame for a stream
 * that existed and is closed (stream error STREAM_CLOSED, RFC 9113 §5.1) from one for an id the
 * client skipped and so can never open any more (connection error PROTOCOL_ERROR, §5.1.1: ids only
 * grow). Netty's decoder keeps only the highest id and answers both STREAM_CLOSED (h2spec 5.1.1,
 * issue 16).
 *
 * <p>Clients open ids in order and seldom skip one, so the skipped ranges are few; this keeps the
 * last {@link #MAX_GAPS}. A skipped id older than those is answered as Netty does (STREAM_CLOSED):
 * still a refusal, only the milder one. One connection's event loop uses it.
 */
final class ClientStreamIds {

  /** Skipped ranges kept: 32 pairs of ints per connection at most. */
  static final int MAX_GAPS = 32;

  /** The highest client stream id a HEADERS frame named, 0 before the first. */
  private int highest;

  /** Ranges of ids skipped, as {first, last} (both odd), oldest first. */
  private final ArrayDeque<int[]> gaps = new ArrayDeque<>();

  /**
   * Records a HEADERS frame on {@code id} read from the client; throws if the client skipped that
   * id before. Even ids (server-initiated) are the decoder's to refuse.
   */
  void headers(int id) throws Http2Exception {
    if (id % 2 == 0) {
      return;
    }
    if (id > highest) {
      int firstSkipped = highest + (highest == 0 ? 1 : 2);
      if (id > firstSkipped) {
        if (gaps.size() == MAX_GAPS) {
          gaps.removeFirst();
        }
        gaps.addLast(new int[] {firstSkipped, id - 2});
      }
      highest = id;
      return;
    }
    for (int[] gap : gaps) {
      if (id >= gap[0] && id <= gap[1]) {
        throw Http2Exception.connectionError(
            Http2Error.PROTOCOL_ERROR,
            "stream id: %d (expected: above %d; ids only grow, and %d was skipped)",
            id,
            highest,
            id);
      }
    }
  }
}
