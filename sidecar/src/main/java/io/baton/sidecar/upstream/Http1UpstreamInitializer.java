package io.baton.sidecar.upstream;

import io.baton.sidecar.config.HostPort;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/** The pipeline of one upstream HTTP/1.1 connection. */
public final class Http1UpstreamInitializer extends ChannelInitializer<Channel> {

  private final Cluster cluster;
  private final HostPort endpoint;

  public Http1UpstreamInitializer(Cluster cluster, HostPort endpoint) {
    this.cluster = cluster;
    this.endpoint = endpoint;
  }

  @Override
  protected void initChannel(Channel ch) {
    long idleMillis = cluster.config().idleTimeout().toMillis();
    ch.pipeline()
        .addLast(new HttpClientCodec(4096, 16 * 1024, 64 * 1024))
        .addLast(new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS))
        .addLast(new Http1UpstreamHandler(cluster, endpoint));
  }
}
