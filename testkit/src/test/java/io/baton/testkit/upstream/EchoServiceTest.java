package io.baton.testkit.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.proto.testing.v1.EchoGrpc;
import io.baton.proto.testing.v1.EchoReply;
import io.baton.proto.testing.v1.EchoRequest;
import io.baton.proto.testing.v1.StreamRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The gRPC echo service of {@link TestH2Upstream}, called directly (no proxy), one test per method
 * shape.
 */
@Timeout(30)
class EchoServiceTest {

  private final TestH2Upstream upstream = TestH2Upstream.start(0, 0);
  private final ManagedChannel channel =
      NettyChannelBuilder.forAddress("127.0.0.1", upstream.grpcPort())
          .usePlaintext()
          .disableRetry()
          .build();

  @AfterEach
  void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    upstream.close();
  }

  @Test
  void unaryEchoesAndRecordsTheCallIdOnce() {
    EchoReply reply =
        EchoGrpc.newBlockingStub(channel)
            .unary(
                EchoRequest.newBuilder()
                    .setCallId("u-1")
                    .setPayload("hi")
                    .setDelayMillis(20)
                    .build());
    assertThat(reply.getPayload()).isEqualTo("hi");
    assertThat(upstream.callIdCounts()).isEqualTo(Map.of("u-1", 1));
  }

  @Test
  void serverStreamSendsCountMessagesInOrder() {
    Iterator<EchoReply> replies =
        EchoGrpc.newBlockingStub(channel)
            .serverStream(
                StreamRequest.newBuilder()
                    .setCallId("s-1")
                    .setCount(5)
                    .setIntervalMillis(10)
                    .build());
    List<Integer> seqs = new ArrayList<>();
    replies.forEachRemaining(r -> seqs.add(r.getSeq()));
    assertThat(seqs).containsExactly(0, 1, 2, 3, 4);
    assertThat(upstream.callIdCounts()).isEqualTo(Map.of("s-1", 1));
  }

  @Test
  void clientStreamCountsWhatArrived() throws Exception {
    CompletableFuture<EchoReply> result = new CompletableFuture<>();
    StreamObserver<EchoRequest> out =
        EchoGrpc.newStub(channel).clientStream(observer(new LinkedBlockingQueue<>(), result));
    for (int i = 0; i < 3; i++) {
      out.onNext(EchoRequest.newBuilder().setCallId("c-1").setPayload("p" + i).build());
    }
    out.onCompleted();
    EchoReply reply = result.get(10, TimeUnit.SECONDS);
    assertThat(reply.getReceived()).isEqualTo(3);
    assertThat(reply.getPayload()).isEqualTo("p0p1p2");
    assertThat(upstream.callIdCounts()).isEqualTo(Map.of("c-1", 1));
  }

  @Test
  void bidiStreamAnswersEachMessage() throws Exception {
    LinkedBlockingQueue<EchoReply> replies = new LinkedBlockingQueue<>();
    CompletableFuture<EchoReply> done = new CompletableFuture<>();
    StreamObserver<EchoRequest> out = EchoGrpc.newStub(channel).bidiStream(observer(replies, done));
    for (int i = 0; i < 3; i++) {
      out.onNext(EchoRequest.newBuilder().setCallId("b-1").setPayload("p" + i).build());
      assertThat(replies.poll(10, TimeUnit.SECONDS).getPayload()).isEqualTo("p" + i);
    }
    out.onCompleted();
    done.get(10, TimeUnit.SECONDS);
    assertThat(upstream.callIdCounts()).isEqualTo(Map.of("b-1", 1));
    assertThat(upstream.grpcCallsInFlight()).isZero();
  }

  private static StreamObserver<EchoReply> observer(
      LinkedBlockingQueue<EchoReply> replies, CompletableFuture<EchoReply> done) {
    return new StreamObserver<>() {
      private EchoReply last;

      @Override
      public void onNext(EchoReply value) {
        last = value;
        replies.add(value);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.complete(last);
      }
    };
  }
}
