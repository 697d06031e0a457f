package io.baton.sidecar.http2;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.h2c.H2cPool;
import io.baton.sidecar.h2c.H2cStreamFailure;
import io.baton.sidecar.metrics.UpstreamErrorReason;
import io.baton.sidecar.upstream.Cluster;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * A client stream proxied as a stream of a pooled h2c upstream connection: frames pass through as
 * they are (headers, data, trailers), flow control on both sides does the backpressure.
 */
final class H2cUpstreamCall implements UpstreamCall {

  /** Where the upstream stream is. */
  private enum State {
    /** Waiting for a connection that takes the stream. */
    OPENING,
    OPEN,
    /**
     * Reported to the listener (response complete, failed or unprocessed) or cancelled: silent from
     * now on.
     */
    DONE
  }

  private final HostPort endpoint;
  private final Listener listener;
  private final List<Http2StreamFrame> pending = new ArrayList<>();
  private State state = State.OPENING;
  private Http2StreamChannel stream;
  private boolean responseStarted;
  private boolean reading = true;

  H2cUpstreamCall(
      Cluster cluster,
      EventLoop loop,
      HostPort endpoint,
      Http2Headers headers,
      boolean endStream,
      Listener listener) {
    this.endpoint = endpoint;
    this.listener = listener;
    pending.add(new DefaultHttp2HeadersFrame(headers, endStream));
    H2cPool.of(cluster, loop).openStream(endpoint, new StreamHandler(), this::opened);
  }

  private void opened(Http2StreamChannel channel, H2cStreamFailure failure) {
    if (state != State.OPENING) {
      if (channel != null) {
        channel.close(); // cancelled meanwhile
      }
      return;
    }
    if (channel == null) {
      releasePending();
      state = State.DONE;
      listener.unprocessed(
          failure.connect()
              ? UpstreamFailure.connect(failure.reason(), failure.detail())
              : UpstreamFailure.lost(failure.detail()));
      return;
    }
    stream = channel;
    state = State.OPEN;
    stream.config().setAutoRead(reading);
    boolean first = true;
    for (Http2StreamFrame f : pending) {
      if (first) {
        // The stream exists at the member only once its HEADERS are written: a failure here (the
        // connection went away meanwhile, the member's stream limit) means never processed.
        stream
            .write(f)
            .addListener(
                w -> {
                  if (!w.isSuccess()) {
                    refused("the stream could not start: " + w.cause());
                  }
                });
        first = false;
      } else {
        stream.write(f);
      }
    }
    pending.clear();
    stream.flush();
    if (stream.isWritable()) {
      listener.writabilityChanged();
    }
  }

  @Override
  public void data(ByteBuf data, boolean endStream) {
    send(new DefaultHttp2DataFrame(data, endStream));
  }

  @Override
  public void trailers(Http2Headers trailers) {
    send(new DefaultHttp2HeadersFrame(trailers, true));
  }

  private void send(Http2StreamFrame frame) {
    if (state == State.OPENING) {
      pending.add(frame);
    } else if (state == State.OPEN) {
      stream.writeAndFlush(frame);
    } else {
      ReferenceCountUtil.release(frame);
    }
  }

  @Override
  public boolean isWritable() {
    return state == State.OPEN && stream.isWritable();
  }

  @Override
  public void setReading(boolean value) {
    reading = value;
    if (stream != null) {
      stream.config().setAutoRead(value);
    }
  }

  @Override
  public void cancel() {
    State was = state;
    state = State.DONE;
    releasePending();
    if (was == State.OPEN && stream.isActive()) {
      stream.close(); // RST_STREAM(CANCEL) if the stream is not closed yet
    }
  }

  private void releasePending() {
    pending.forEach(ReferenceCountUtil::release);
    pending.clear();
  }

  private void refused(String why) {
    if (state == State.DONE) {
      return;
    }
    state = State.DONE;
    listener.unprocessed(
        new UpstreamFailure(
            UpstreamErrorReason.CONNECTION_LOST,
            502,
            UpstreamFailure.GRPC_UNAVAILABLE,
            Http2Error.REFUSED_STREAM,
            "upstream " + endpoint + " " + why));
    if (stream != null && stream.isActive()) {
      stream.close();
    }
  }

  private void failed(UpstreamFailure failure) {
    if (state == State.DONE) {
      return;
    }
    state = State.DONE;
    listener.failed(failure);
  }

  /** The end of the upstream stream: hands what the member sends to the listener. */
  private final class StreamHandler extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (state != State.OPEN) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (msg instanceof Http2HeadersFrame h) {
        if (!responseStarted) {
          CharSequence status = h.headers().status();
          if (status != null
              && status.length() == 3
              && status.charAt(0) == '1'
              && !h.isEndStream()) {
            return; // an interim response (100 Continue, 103): nothing the client waits for
          }
          responseStarted = true;
          if (h.isEndStream()) {
            state = State.DONE;
          }
          listener.responseHeaders(h.headers(), h.isEndStream());
        } else {
          state = State.DONE;
          listener.responseTrailers(h.headers());
        }
      } else if (msg instanceof Http2DataFrame d) {
        if (d.isEndStream()) {
          state = State.DONE;
        }
        listener.responseData(d.content(), d.isEndStream());
      } else {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof Http2GoAwayFrame goAway) {
        // Above the member's last stream id: it never processed this stream (RFC 9113 §6.8).
        goAway.release();
        refused(
            "sent GOAWAY with a last stream id below stream "
                + ((Http2StreamChannel) ctx.channel()).stream().id());
        return;
      }
      if (evt instanceof Http2ResetFrame reset) {
        if (reset.errorCode() == Http2Error.REFUSED_STREAM.code() && !responseStarted) {
          refused("refused the stream (REFUSED_STREAM)");
        } else {
          failed(
              UpstreamFailure.reset(
                  reset.errorCode(),
                  "upstream "
                      + endpoint
                      + " reset the stream ("
                      + (Http2Error.valueOf(reset.errorCode()) == null
                          ? reset.errorCode()
                          : Http2Error.valueOf(reset.errorCode()))
                      + ")"));
        }
        return;
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (state == State.OPEN) {
        listener.writabilityChanged();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      failed(
          UpstreamFailure.lost(
              "upstream " + endpoint + " closed the stream before the response ended"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      failed(UpstreamFailure.protocol("upstream " + endpoint + ": " + cause));
      ctx.close();
    }
  }
}
