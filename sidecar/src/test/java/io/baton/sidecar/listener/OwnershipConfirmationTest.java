package io.baton.sidecar.listener;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The claim of a moved connection is made before its state first changes, once. */
@Timeout(10)
class OwnershipConfirmationTest {

  private final List<String> events = new ArrayList<>();

  private EmbeddedChannel channel() {
    return new EmbeddedChannel(
        new OwnershipConfirmation(() -> events.add("claimed")),
        new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            events.add("read");
            ReferenceCountUtil.release(msg);
          }
        });
  }

  @Test
  void theFirstReadIsClaimedBeforeItGoesDownThePipelineAndOnlyOnce() {
    EmbeddedChannel ch = channel();

    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {'G'}));
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {'E'}));

    assertThat(events).containsExactly("claimed", "read", "read");
    assertThat(ch.pipeline().get(OwnershipConfirmation.class))
        .as("it leaves the pipeline after its first event")
        .isNull();
    ch.finishAndReleaseAll();
  }

  @Test
  void aCloseOfAnUntouchedConnectionIsClaimedFirstSoThatItsFinIsSent() {
    EmbeddedChannel ch = channel();

    ch.close();

    assertThat(events).containsExactly("claimed");
  }

  @Test
  void anIdleConnectionIsNeverClaimed() {
    EmbeddedChannel ch = channel();

    ch.runPendingTasks();

    assertThat(events).isEmpty();
    assertThat(ch.pipeline().get(OwnershipConfirmation.class)).isNotNull();
  }
}
