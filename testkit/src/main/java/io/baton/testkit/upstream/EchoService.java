package io.baton.testkit.upstream;

import io.baton.proto.testing.v1.EchoGrpc;
import io.baton.proto.testing.v1.EchoReply;
import io.baton.proto.testing.v1.EchoRequest;
import io.baton.proto.testing.v1.StreamRequest;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code baton.testing.v1.Echo}: records each call's id once (on its first message), answers in the
 * shape of the method. Delays and stream intervals run on one scheduler thread, never on gRPC's.
 */
final class EchoService extends EchoGrpc.EchoImplBase implements AutoCloseable {

  private final ConcurrentHashMap<String, Integer> callIds = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile boolean streamsReleased;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("echo-timer", true));

  Map<String, Integer> callIdCounts() {
    return new TreeMap<>(callIds);
  }

  int callsInFlight() {
    return inFlight.get();
  }

  /** Server streams asked to run until released end now (after their count). */
  void releaseStreams() {
    streamsReleased = true;
  }

  private void record(String callId) {
    callIds.merge(callId, 1, Integer::sum);
  }

  @Override
  public void unary(EchoRequest request, StreamObserver<EchoReply> out) {
    record(request.getCallId());
    inFlight.incrementAndGet();
    Deadline deadline = Context.current().getDeadline();
    EchoReply reply =
        EchoReply.newBuilder()
            .setCallId(request.getCallId())
            .setPayload(request.getPayload())
            .setDeadlineMillisLeft(
                deadline == null ? 0 : Math.max(1, deadline.timeRemaining(TimeUnit.MILLISECONDS)))
            .build();
    Runnable answer =
        () -> {
          inFlight.decrementAndGet();
          if (((ServerCallStreamObserver<EchoReply>) out).isCancelled()) {
            return;
          }
          if (request.getFailWithStatus() != 0) {
            out.onError(
                Status.fromCodeValue(request.getFailWithStatus())
                    .withDescription(request.getPayload())
                    .asRuntimeException());
            return;
          }
          out.onNext(reply);
          out.onCompleted();
        };
    if (request.getDelayMillis() > 0) {
      timer.schedule(answer, request.getDelayMillis(), TimeUnit.MILLISECONDS);
    } else {
      answer.run();
    }
  }

  @Override
  public void serverStream(StreamRequest request, StreamObserver<EchoReply> out) {
    record(request.getCallId());
    inFlight.incrementAndGet();
    ServerCallStreamObserver<EchoReply> call = (ServerCallStreamObserver<EchoReply>) out;
    AtomicInteger ended = new AtomicInteger();
    call.setOnCancelHandler(
        () -> {
          if (ended.getAndIncrement() == 0) {
            inFlight.decrementAndGet();
          }
        });
    sendNext(request, call, 0, ended);
  }

  private void sendNext(
      StreamRequest request,
      ServerCallStreamObserver<EchoReply> call,
      int seq,
      AtomicInteger ended) {
    timer.schedule(
        () -> {
          if (call.isCancelled()) {
            return;
          }
          if (seq >= request.getCount() && (!request.getUntilReleased() || streamsReleased)) {
            if (ended.getAndIncrement() == 0) {
              inFlight.decrementAndGet();
            }
            call.onCompleted();
            return;
          }
          call.onNext(
              EchoReply.newBuilder()
                  .setCallId(request.getCallId())
                  .setSeq(seq)
                  .setPayload("m" + seq)
                  .build());
          sendNext(request, call, seq + 1, ended);
        },
        seq == 0 ? 0 : request.getIntervalMillis(),
        TimeUnit.MILLISECONDS);
  }

  @Override
  public StreamObserver<EchoRequest> clientStream(StreamObserver<EchoReply> out) {
    return new Reader(out, false);
  }

  @Override
  public StreamObserver<EchoRequest> bidiStream(StreamObserver<EchoReply> out) {
    return new Reader(out, true);
  }

  /** Client and bidi streams: the first message names the call. */
  private final class Reader implements StreamObserver<EchoRequest> {
    private final StreamObserver<EchoReply> out;
    private final boolean replyEach;
    private String callId;
    private int received;
    private final StringBuilder payloads = new StringBuilder();

    Reader(StreamObserver<EchoReply> out, boolean replyEach) {
      this.out = out;
      this.replyEach = replyEach;
      inFlight.incrementAndGet();
    }

    @Override
    public void onNext(EchoRequest m) {
      if (callId == null) {
        callId = m.getCallId();
        record(callId);
      }
      if (replyEach) {
        out.onNext(
            EchoReply.newBuilder()
                .setCallId(callId)
                .setSeq(received)
                .setPayload(m.getPayload())
                .build());
      } else {
        payloads.append(m.getPayload());
      }
      received++;
    }

    @Override
    public void onError(Throwable t) {
      inFlight.decrementAndGet();
    }

    @Override
    public void onCompleted() {
      inFlight.decrementAndGet();
      if (!replyEach) {
        out.onNext(
            EchoReply.newBuilder()
                .setCallId(callId == null ? "" : callId)
                .setReceived(received)
                .setPayload(payloads.toString())
                .build());
      }
      out.onCompleted();
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
