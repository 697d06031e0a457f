package io.baton.sidecar.http2;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.upstream.Cluster;
import io.baton.sidecar.upstream.HopByHop;
import io.baton.sidecar.upstream.Http1UpstreamHandler;
import io.baton.sidecar.upstream.Http1UpstreamInitializer;
import io.baton.sidecar.upstream.UpstreamConnector;
import io.baton.sidecar.upstream.UpstreamPool;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A client stream proxied as one HTTP/1.1 exchange on the cluster's keep-alive pool (the same pool
 * HTTP/1.1 clients use): the stream's headers become a request head, its DATA a body (chunked
 * unless it has a content-length), its trailers the last chunk's trailers; the response comes back
 * the same way. The connection returns to the pool when both ended cleanly.
 */
final class Http1UpstreamCall implements UpstreamCall, Http1UpstreamHandler.Owner {

  private final Cluster cluster;
  private final HostPort endpoint;
  private final Listener listener;
  private final boolean head;
  private final List<HttpObject> pending = new ArrayList<>();
  private Channel upstream;
  private Http1UpstreamHandler handler;
  private boolean reused;
  private boolean requestComplete;
  private boolean responseStarted;
  private boolean responseComplete;
  private boolean keepAlive;
  private boolean skipInterim;
  private boolean done;
  private boolean reading = true;

  Http1UpstreamCall(
      Cluster cluster,
      EventLoop loop,
      HostPort endpoint,
      Http2Headers headers,
      boolean endStream,
      Listener listener) {
    this.cluster = cluster;
    this.endpoint = endpoint;
    this.listener = listener;
    HttpRequest request = toRequest(headers, endStream);
    this.head = HttpMethod.HEAD.equals(request.method());
    pending.add(request);
    if (endStream) {
      pending.add(LastHttpContent.EMPTY_LAST_CONTENT);
      requestComplete = true;
    }
    UpstreamPool pool = cluster.pool(loop);
    Channel pooled = pool.poll(endpoint);
    if (pooled != null) {
      reused = true;
      attach(pooled);
      return;
    }
    ChannelFuture connect =
        UpstreamConnector.connect(
            cluster, loop, endpoint, new Http1UpstreamInitializer(cluster, endpoint), true, false);
    connect.addListener(
        f -> {
          if (done) {
            connect.channel().close();
          } else if (f.isSuccess()) {
            attach(connect.channel());
          } else {
            cluster.recordFailure(endpoint);
            done = true;
            releasePending();
            listener.unprocessed(
                UpstreamFailure.connect(
                    UpstreamConnector.reasonOf(f.cause()),
                    "cannot connect to " + endpoint + ": " + f.cause().getMessage()));
          }
        });
  }

  private static HttpRequest toRequest(Http2Headers headers, boolean endStream) {
    String method = headers.method() == null ? "GET" : headers.method().toString();
    String path = headers.path() == null ? "/" : headers.path().toString();
    HttpRequest request =
        new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), path, true);
    for (Map.Entry<CharSequence, CharSequence> h : headers) {
      CharSequence name = h.getKey();
      if (name.length() > 0 && name.charAt(0) != ':') {
        request.headers().add(name, h.getValue());
      }
    }
    HopByHop.strip(request.headers()); // "te: trailers" of gRPC means nothing on an HTTP/1.1 hop
    if (headers.authority() != null && !request.headers().contains(HttpHeaderNames.HOST)) {
      request.headers().set(HttpHeaderNames.HOST, headers.authority());
    }
    if (!endStream && !request.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
      request.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    return request;
  }

  private void attach(Channel channel) {
    upstream = channel;
    handler = channel.pipeline().get(Http1UpstreamHandler.class);
    handler.owner(this);
    channel.config().setAutoRead(reading);
    pending.forEach(channel::write);
    pending.clear();
    channel.flush();
    if (channel.isWritable()) {
      listener.writabilityChanged();
    }
  }

  @Override
  public void data(ByteBuf data, boolean endStream) {
    send(endStream ? new DefaultLastHttpContent(data) : new DefaultHttpContent(data));
    requestComplete |= endStream;
  }

  @Override
  public void trailers(Http2Headers trailers) {
    LastHttpContent last = new DefaultLastHttpContent();
    for (Map.Entry<CharSequence, CharSequence> h : trailers) {
      if (h.getKey().length() > 0 && h.getKey().charAt(0) != ':') {
        last.trailingHeaders().add(h.getKey(), h.getValue());
      }
    }
    send(last);
    requestComplete = true;
  }

  private void send(HttpContent content) {
    if (done) {
      content.release();
    } else if (upstream == null) {
      pending.add(content);
    } else {
      upstream.writeAndFlush(content);
    }
  }

  @Override
  public boolean isWritable() {
    return upstream != null && upstream.isWritable();
  }

  @Override
  public void setReading(boolean value) {
    reading = value;
    if (upstream != null) {
      upstream.config().setAutoRead(value);
    }
  }

  @Override
  public void cancel() {
    if (done) {
      return;
    }
    done = true;
    releasePending();
    release(false);
  }

  private void releasePending() {
    pending.forEach(ReferenceCountUtil::release);
    pending.clear();
  }

  private void release(boolean reusable) {
    Channel ch = upstream;
    upstream = null;
    if (ch == null) {
      return;
    }
    handler.owner(null);
    ch.config().setAutoRead(true);
    if (reusable && ch.isActive()) {
      cluster.pool(ch.eventLoop()).release(endpoint, ch);
    } else {
      ch.close();
    }
  }

  @Override
  public void upstreamRead(Channel channel, Object msg) {
    if (done || channel != upstream) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse response) {
      if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        skipInterim = true; // 100 Continue and the like: the h2 client gets the final response only
        ReferenceCountUtil.release(msg);
        return;
      }
      responseStarted = true;
      keepAlive = HttpUtil.isKeepAlive(response);
      Http2Headers headers = HttpConversionUtil.toHttp2Headers(response, false);
      boolean bodyless = head || response.status().code() == 204 || response.status().code() == 304;
      if (bodyless) {
        headers.remove(
            HttpHeaderNames.CONTENT_LENGTH); // a HEAD's length describes a body that is not there
      }
      listener.responseHeaders(headers, false);
    }
    if (msg instanceof HttpContent content) {
      if (skipInterim) {
        skipInterim = !(content instanceof LastHttpContent);
        content.release();
        return;
      }
      if (!(content instanceof LastHttpContent last)) {
        listener.responseData(content.content(), false);
        return;
      }
      responseComplete = true;
      done = true;
      if (last.trailingHeaders().isEmpty()) {
        listener.responseData(last.content(), true);
      } else {
        Http2Headers trailers = new DefaultHttp2Headers();
        HttpConversionUtil.toHttp2Headers(last.trailingHeaders(), trailers);
        if (last.content().isReadable()) {
          listener.responseData(last.content(), false);
        } else {
          last.release();
        }
        listener.responseTrailers(trailers);
      }
      release(keepAlive && requestComplete);
    } else if (!(msg instanceof HttpResponse)) {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void upstreamClosed(Channel channel) {
    if (done || channel != upstream) {
      return;
    }
    done = true;
    upstream = null;
    handler.owner(null);
    // A pooled connection the member closed as we reused it says nothing bad about the member.
    if (!responseStarted && !reused) {
      cluster.recordFailure(endpoint);
    }
    listener.failed(UpstreamFailure.lost("upstream " + endpoint + " closed the connection"));
  }

  @Override
  public void upstreamWritabilityChanged(Channel channel) {
    if (!done && channel == upstream) {
      listener.writabilityChanged();
    }
  }
}
