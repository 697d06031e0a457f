package io.baton.it.support;

import io.baton.proto.testing.v1.EchoGrpc;
import io.baton.proto.testing.v1.EchoReply;
import io.baton.proto.testing.v1.EchoRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Unary gRPC calls ({@code baton.testing.v1.Echo/Unary}) from {@code channels} grpc-java channels
 * with {@code perChannel} calls outstanding each, every call with a unique call id, until {@link
 * #stop()}. Retries are disabled ({@code disableRetry()}: grpc-java would otherwise resend refused
 * streams and hide them); every call's final status is counted.
 */
public final class GrpcUnaryLoad implements AutoCloseable {

  private final List<ManagedChannel> channels = new ArrayList<>();
  private final Map<Status.Code, LongAdder> statuses = new ConcurrentHashMap<>();
  private final Queue<String> callIds = new ConcurrentLinkedQueue<>();
  private final Queue<String> errors = new ConcurrentLinkedQueue<>();
  private final AtomicLong next = new AtomicLong();
  private final AtomicLong inFlight = new AtomicLong();
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final int delayMillis;

  public GrpcUnaryLoad(
      InetSocketAddress target, int channelCount, int perChannel, int delayMillis) {
    this.delayMillis = delayMillis;
    for (int i = 0; i < channelCount; i++) {
      ManagedChannel ch =
          NettyChannelBuilder.forAddress(target.getHostString(), target.getPort())
              .usePlaintext()
              .disableRetry()
              .build();
      channels.add(ch);
      EchoGrpc.EchoStub stub = EchoGrpc.newStub(ch);
      for (int k = 0; k < perChannel; k++) {
        call(stub);
      }
    }
  }

  private void call(EchoGrpc.EchoStub stub) {
    if (stopped.get()) {
      return;
    }
    String id = "g-" + next.incrementAndGet();
    callIds.add(id);
    inFlight.incrementAndGet();
    stub.withDeadlineAfter(10, TimeUnit.SECONDS)
        .unary(
            EchoRequest.newBuilder()
                .setCallId(id)
                .setPayload(id)
                .setDelayMillis(delayMillis)
                .build(),
            new StreamObserver<>() {
              private boolean echoed;

              @Override
              public void onNext(EchoReply value) {
                echoed = value.getPayload().equals(id);
              }

              @Override
              public void onError(Throwable t) {
                done(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {
                done(
                    echoed
                        ? Status.OK
                        : Status.DATA_LOSS.withDescription("reply does not echo " + id));
              }

              private void done(Status status) {
                statuses.computeIfAbsent(status.getCode(), c -> new LongAdder()).increment();
                if (!status.isOk() && errors.size() < 10) {
                  errors.add(id + ": " + status);
                }
                inFlight.decrementAndGet();
                call(stub);
              }
            });
  }

  /** Calls that ended OK so far. */
  public long ok() {
    LongAdder a = statuses.get(Status.Code.OK);
    return a == null ? 0 : a.sum();
  }

  /** Every final status seen, with its count. */
  public Map<Status.Code, Long> statuses() {
    Map<Status.Code, Long> m = new EnumMap<>(Status.Code.class);
    statuses.forEach((k, v) -> m.put(k, v.sum()));
    return m;
  }

  public List<String> firstErrors() {
    return List.copyOf(errors);
  }

  public List<String> callIds() {
    return List.copyOf(callIds);
  }

  /** Starts no more calls; waits up to {@code timeout} for those in flight; true if all ended. */
  public boolean stopAndAwait(Duration timeout) {
    stopped.set(true);
    try {
      Awaitility.await().atMost(timeout).until(() -> inFlight.get() == 0);
      return true;
    } catch (ConditionTimeoutException e) {
      return false;
    }
  }

  @Override
  public void close() throws InterruptedException {
    stopped.set(true);
    for (ManagedChannel ch : channels) {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
