package io.baton.sidecar.admin;

import io.baton.sidecar.metrics.BatonMetrics;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.util.function.BooleanSupplier;

/** The pipeline of one admin HTTP connection. Requests are tiny; bodies are refused past 8 KiB. */
@ChannelHandler.Sharable
public final class AdminInitializer extends ChannelInitializer<Channel> {

  private final BatonMetrics metrics;
  private final BooleanSupplier ready;
  private final ClustersReport clusters;

  /**
   * @param ready true only while this process accepts on its listeners
   */
  public AdminInitializer(BatonMetrics metrics, BooleanSupplier ready, ClustersReport clusters) {
    this.metrics = metrics;
    this.ready = ready;
    this.clusters = clusters;
  }

  @Override
  protected void initChannel(Channel ch) {
    ch.pipeline()
        .addLast(new HttpServerCodec(4096, 8192, 8192))
        .addLast(new HttpObjectAggregator(8192))
        .addLast(new AdminHandler(metrics, ready, clusters));
  }
}
