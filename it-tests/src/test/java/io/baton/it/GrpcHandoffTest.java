package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.it.support.GrpcUnaryLoad;
import io.baton.proto.testing.v1.EchoGrpc;
import io.baton.proto.testing.v1.EchoReply;
import io.baton.proto.testing.v1.EchoRequest;
import io.baton.proto.testing.v1.StreamRequest;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestH2Upstream;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * gRPC through Baton (h2c listener, h2c cluster) across handoffs, with grpc-java clients whose
 * retries are disabled, so every refused or reset call shows as a non-OK status.
 *
 * <p>Unary calls under load across ten handoffs: all OK, each call id at the upstream once. A
 * server-streaming call and a bidirectional call opened on generation 1 outlive the handoff(s):
 * generation 1 keeps draining them (its GOAWAY lets in-flight streams finish), every message
 * arrives, the call ends OK; a client-streaming call likewise delivers every message to the
 * upstream. The caller's deadline and the upstream's status and message pass through unchanged.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class GrpcHandoffTest {

  private static final int HANDOFFS = 10;

  /**
   * Handoffs a long stream spans: generation 1 keeps draining it while generations 2 and 3 hand on
   * to 4 (chained drains, within the default handoff.maxDraining of 3).
   */
  private static final int STREAM_HANDOFFS = 3;

  private final BatonFixture fixture = new BatonFixture();
  private TestH2Upstream upstream;
  private Generations generations;
  private InetSocketAddress web;
  private ManagedChannel channel;

  @BeforeEach
  void start() {
    upstream = TestH2Upstream.start(0, 0);
    Path config =
        fixture
            .config()
            .servingHeader(true)
            .drainTimeout("60s")
            .httpListener("grpc", "127.0.0.1:0", "echo")
            .clusterOfProtocol("echo", "h2c", "127.0.0.1:" + upstream.grpcPort())
            .write();
    generations = new Generations(fixture, config);
    web = generations.start().listener("grpc");
    channel =
        NettyChannelBuilder.forAddress(web.getHostString(), web.getPort())
            .usePlaintext()
            .disableRetry()
            .build();
  }

  @AfterEach
  void cleanUp() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void unaryCallsUnderLoadAreAllOkAcrossTenHandoffs() throws Exception {
    List<String> callIds;
    Map<Status.Code, Long> statuses;
    try (GrpcUnaryLoad load = new GrpcUnaryLoad(web, 8, 8, 10)) {
      for (int i = 1; i <= HANDOFFS; i++) {
        long before = load.ok();
        generations.handOff();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> load.ok() > before + 64);
      }
      assertThat(load.stopAndAwait(Duration.ofSeconds(30))).as("every call ended").isTrue();
      statuses = load.statuses();
      callIds = load.callIds();
      System.out.println(
          "unary gRPC across "
              + HANDOFFS
              + " handoffs: "
              + statuses
              + " errors "
              + load.firstErrors());
      assertThat(statuses.keySet())
          .as("final statuses (first errors: %s)", load.firstErrors())
          .containsOnly(Status.Code.OK);
    }
    assertThat(statuses.get(Status.Code.OK)).isEqualTo(callIds.size());
    Map<String, Integer> arrived = upstream.callIdCounts();
    assertThat(arrived.keySet())
        .as("every call reached the upstream")
        .isEqualTo(new HashSet<>(callIds));
    assertThat(arrived.values()).as("exactly once").allMatch(n -> n == 1);
  }

  @Test
  void aServerStreamStartedOnGenerationOneDeliversEveryMessageAcrossHandoffs() throws Exception {
    // At least 20 messages, one every 25 ms, and on until the handoffs are done (released below).
    int count = 20;
    LinkedBlockingQueue<EchoReply> replies = new LinkedBlockingQueue<>();
    CompletableFuture<Status> end = new CompletableFuture<>();
    EchoGrpc.newStub(channel)
        .serverStream(
            StreamRequest.newBuilder()
                .setCallId("stream-1")
                .setCount(count)
                .setIntervalMillis(25)
                .setUntilReleased(true)
                .build(),
            observer(replies, end));
    EchoReply first = replies.poll(10, TimeUnit.SECONDS);
    assertThat(first).as("the first message, from generation 1").isNotNull();

    List<BatonProcess> draining = handOffWhileTheStreamRuns();
    assertThat(end)
        .as("the stream still runs after %d handoff(s): it spans them", STREAM_HANDOFFS)
        .isNotDone();
    assertThat(draining.get(0).isAlive()).as("generation 1 still drains the stream").isTrue();
    int beforeRelease = replies.size();
    // More messages flow after the handoffs, from the drained generation's connection.
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> replies.size() > beforeRelease + 10);
    upstream.releaseStreams();

    Status status = end.get(60, TimeUnit.SECONDS);
    assertThat(status.getCode()).as("%s", status).isEqualTo(Status.Code.OK);
    List<Integer> seqs = new ArrayList<>();
    seqs.add(first.getSeq());
    replies.forEach(r -> seqs.add(r.getSeq()));
    assertThat(seqs.size()).as("messages").isGreaterThan(count);
    assertThat(seqs)
        .as("every message, in order")
        .isEqualTo(IntStream.range(0, seqs.size()).boxed().toList());
    assertThat(upstream.callIdCounts()).isEqualTo(Map.of("stream-1", 1));
    System.out.println(
        "server stream across "
            + STREAM_HANDOFFS
            + " handoffs: "
            + seqs.size()
            + " messages, "
            + status);
    for (BatonProcess p : draining) {
      assertThat(p.awaitExit(Generations.WAIT)).as("a drained generation's exit code").isZero();
    }
  }

  @Test
  void aBidiStreamStartedOnGenerationOneCarriesOnAcrossHandoffs() throws Exception {
    LinkedBlockingQueue<EchoReply> replies = new LinkedBlockingQueue<>();
    CompletableFuture<Status> end = new CompletableFuture<>();
    StreamObserver<EchoRequest> out = EchoGrpc.newStub(channel).bidiStream(observer(replies, end));
    int sent = 0;
    out.onNext(EchoRequest.newBuilder().setCallId("bidi-1").setPayload("m" + sent++).build());
    assertThat(replies.poll(10, TimeUnit.SECONDS))
        .as("the first answer, from generation 1")
        .isNotNull();

    List<BatonProcess> draining = new ArrayList<>();
    for (int i = 0; i < STREAM_HANDOFFS; i++) {
      draining.add(generations.handOffWhilePredecessorDrains());
      // Messages both ways between handoffs, on the stream generation 1 carries.
      for (int k = 0; k < 5; k++) {
        out.onNext(EchoRequest.newBuilder().setCallId("bidi-1").setPayload("m" + sent).build());
        EchoReply reply = replies.poll(10, TimeUnit.SECONDS);
        assertThat(reply).as("answer to m%d", sent).isNotNull();
        assertThat(reply.getPayload()).isEqualTo("m" + sent);
        sent++;
      }
    }
    assertThat(end).isNotDone();
    assertThat(draining.get(0).isAlive()).as("generation 1 still drains the stream").isTrue();
    out.onCompleted();
    Status status = end.get(30, TimeUnit.SECONDS);
    assertThat(status.getCode()).as("%s", status).isEqualTo(Status.Code.OK);
    assertThat(upstream.callIdCounts()).isEqualTo(Map.of("bidi-1", 1));
    System.out.println(
        "bidi stream across "
            + STREAM_HANDOFFS
            + " handoffs: "
            + sent
            + " messages answered, "
            + status);
    for (BatonProcess p : draining) {
      assertThat(p.awaitExit(Generations.WAIT)).as("a drained generation's exit code").isZero();
    }
  }

  @Test
  void aClientStreamStartedOnGenerationOneArrivesWholeAcrossHandoffs() throws Exception {
    LinkedBlockingQueue<EchoReply> replies = new LinkedBlockingQueue<>();
    CompletableFuture<Status> end = new CompletableFuture<>();
    StreamObserver<EchoRequest> out =
        EchoGrpc.newStub(channel).clientStream(observer(replies, end));
    StringBuilder sentPayloads = new StringBuilder();
    int sent = 0;
    for (; sent < 3; sent++) {
      out.onNext(
          EchoRequest.newBuilder().setCallId("client-1").setPayload("m" + sent + ";").build());
      sentPayloads.append("m").append(sent).append(';');
    }
    // The call reached the upstream through generation 1 before any handoff.
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> upstream.callIdCounts().containsKey("client-1"));

    List<BatonProcess> draining = new ArrayList<>();
    for (int i = 0; i < STREAM_HANDOFFS; i++) {
      draining.add(generations.handOffWhilePredecessorDrains());
      for (int k = 0; k < 5; k++, sent++) {
        out.onNext(
            EchoRequest.newBuilder().setCallId("client-1").setPayload("m" + sent + ";").build());
        sentPayloads.append("m").append(sent).append(';');
      }
    }
    assertThat(end).as("the call waits for the client to end it").isNotDone();
    assertThat(draining.get(0).isAlive()).as("generation 1 still drains the call").isTrue();
    out.onCompleted();

    Status status = end.get(30, TimeUnit.SECONDS);
    assertThat(status.getCode()).as("%s", status).isEqualTo(Status.Code.OK);
    EchoReply reply = replies.poll(5, TimeUnit.SECONDS);
    assertThat(reply).as("the one answer").isNotNull();
    assertThat(reply.getReceived()).as("messages the upstream read").isEqualTo(sent);
    assertThat(reply.getPayload()).as("every message, in order").isEqualTo(sentPayloads.toString());
    assertThat(upstream.callIdCounts()).isEqualTo(Map.of("client-1", 1));
    System.out.println(
        "client stream across " + STREAM_HANDOFFS + " handoffs: " + sent + " messages, " + status);
    for (BatonProcess p : draining) {
      assertThat(p.awaitExit(Generations.WAIT)).as("a drained generation's exit code").isZero();
    }
  }

  @Test
  void theCallersDeadlineAndTheUpstreamsStatusAndMessagePassThroughUnchanged() {
    EchoGrpc.EchoBlockingStub stub = EchoGrpc.newBlockingStub(channel);
    // grpc-timeout travels to the upstream: it sees a deadline no later than the caller's.
    EchoReply reply =
        stub.withDeadlineAfter(20, TimeUnit.SECONDS)
            .unary(EchoRequest.newBuilder().setCallId("deadline-1").setPayload("p").build());
    assertThat(reply.getDeadlineMillisLeft())
        .as("deadline the upstream saw, ms left")
        .isBetween(1L, 20_000L);
    EchoReply none =
        stub.unary(EchoRequest.newBuilder().setCallId("deadline-2").setPayload("p").build());
    assertThat(none.getDeadlineMillisLeft()).as("no deadline, none invented").isZero();

    // A status set by the upstream arrives in the trailers as it was sent, message included.
    Status notFound =
        Status.fromThrowable(
            catchThrowable(
                () ->
                    stub.unary(
                        EchoRequest.newBuilder()
                            .setCallId("status-1")
                            .setFailWithStatus(Status.Code.NOT_FOUND.value())
                            .setPayload("no such thing: 42")
                            .build())));
    assertThat(notFound.getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(notFound.getDescription()).isEqualTo("no such thing: 42");

    // A deadline shorter than the upstream's answer ends the call as DEADLINE_EXCEEDED, not as a
    // reset or UNAVAILABLE made up by Baton.
    Status late =
        Status.fromThrowable(
            catchThrowable(
                () ->
                    stub.withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                        .unary(
                            EchoRequest.newBuilder()
                                .setCallId("late-1")
                                .setDelayMillis(3000)
                                .setPayload("p")
                                .build())));
    assertThat(late.getCode()).as("%s", late).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    // Baton still serves the next call on the same connection.
    assertThat(
            stub.unary(EchoRequest.newBuilder().setCallId("after-1").setPayload("ok").build())
                .getPayload())
        .isEqualTo("ok");
  }

  private List<BatonProcess> handOffWhileTheStreamRuns() {
    List<BatonProcess> draining = new ArrayList<>();
    for (int i = 0; i < STREAM_HANDOFFS; i++) {
      draining.add(generations.handOffWhilePredecessorDrains());
    }
    return draining;
  }

  private static StreamObserver<EchoReply> observer(
      LinkedBlockingQueue<EchoReply> replies, CompletableFuture<Status> end) {
    return new StreamObserver<>() {
      @Override
      public void onNext(EchoReply value) {
        replies.add(value);
      }

      @Override
      public void onError(Throwable t) {
        end.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        end.complete(Status.OK);
      }
    };
  }
}
