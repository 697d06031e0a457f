package io.baton.sidecar.discovery.etcd;

import io.baton.proto.etcd.v3.Event;
import io.baton.proto.etcd.v3.KVGrpc;
import io.baton.proto.etcd.v3.KeyValue;
import io.baton.proto.etcd.v3.RangeRequest;
import io.baton.proto.etcd.v3.RangeResponse;
import io.baton.proto.etcd.v3.WatchCreateRequest;
import io.baton.proto.etcd.v3.WatchGrpc;
import io.baton.proto.etcd.v3.WatchRequest;
import io.baton.proto.etcd.v3.WatchResponse;
import io.baton.sidecar.config.HostPort;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection attempt to one etcd endpoint: a Range of the prefix and/or one watch stream on it,
 * over one channel. It turns gRPC's callbacks (on the event loop) into {@link Handler} calls on the
 * watch's own thread, and drops every callback of a stream it has replaced or of a session it has
 * closed, so the handler only ever hears about the current stream.
 *
 * <p>Every method is called on the watch's thread ({@code serial}), and so is the handler. Any
 * failure ends the session: the owner closes it and starts another.
 */
final class EtcdSession {

  private static final Logger log = LoggerFactory.getLogger(EtcdSession.class);

  /** What a session reports, on the watch's thread. */
  interface Handler {
    /** The Range answered: the prefix's keys as of {@code revision}. */
    void ranged(List<EtcdKeyValue> keys, long revision);

    /** etcd accepted the watch; {@code revision} is its store revision at that moment. */
    void created(long revision);

    /** Events of the watch, oldest first (never empty). */
    void changed(List<EtcdEvent> events);

    /**
     * etcd no longer has the history from the watch's start revision on ({@code compactRevision} is
     * the oldest it has); the watch is over, the channel still works.
     */
    void compacted(long compactRevision);

    /** The Range or the watch failed; the session is of no further use. */
    void failed(String reason);
  }

  private final HostPort endpoint;
  private final ManagedChannel channel;
  private final EtcdKeyRange range;
  private final Duration timeout;
  private final ScheduledExecutorService serial;
  private final Handler handler;

  private WatchStream watch;
  private boolean closed;

  EtcdSession(
      HostPort endpoint,
      ManagedChannel channel,
      EtcdKeyRange range,
      Duration timeout,
      ScheduledExecutorService serial,
      Handler handler) {
    this.endpoint = endpoint;
    this.channel = channel;
    this.range = range;
    this.timeout = timeout;
    this.serial = serial;
    this.handler = handler;
  }

  HostPort endpoint() {
    return endpoint;
  }

  /** Reads every key of the prefix (a linearizable read); ends any watch of this session first. */
  void range() {
    endWatch("re-reading the prefix");
    RangeRequest request =
        RangeRequest.newBuilder().setKey(range.key()).setRangeEnd(range.rangeEnd()).build();
    KVGrpc.newStub(channel)
        .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
        .range(
            request,
            new StreamObserver<>() {
              @Override
              public void onNext(RangeResponse response) {
                post(() -> onRange(response));
              }

              @Override
              public void onError(Throwable t) {
                post(() -> handler.failed("Range: " + describe(t)));
              }

              @Override
              public void onCompleted() {}
            });
  }

  private void onRange(RangeResponse response) {
    if (response.getMore()) {
      // Only a limit makes etcd answer in parts, and the request sets none.
      handler.failed("Range: etcd returned part of the prefix (more=true) without a limit");
      return;
    }
    List<EtcdKeyValue> keys = new ArrayList<>(response.getKvsCount());
    for (KeyValue kv : response.getKvsList()) {
      keys.add(
          new EtcdKeyValue(
              kv.getKey().toStringUtf8(),
              kv.getValue().toStringUtf8(),
              kv.getCreateRevision(),
              kv.getModRevision(),
              kv.getVersion()));
    }
    handler.ranged(List.copyOf(keys), response.getHeader().getRevision());
  }

  /** Opens a watch stream for the prefix from {@code startRevision} (inclusive), replacing any. */
  void watchFrom(long startRevision) {
    endWatch("replaced by a new watch");
    WatchStream stream = new WatchStream();
    watch = stream;
    StreamObserver<WatchRequest> requests = WatchGrpc.newStub(channel).watch(stream);
    requests.onNext(
        WatchRequest.newBuilder()
            .setCreateRequest(
                WatchCreateRequest.newBuilder()
                    .setKey(range.key())
                    .setRangeEnd(range.rangeEnd())
                    .setStartRevision(startRevision))
            .build());
    // The stream itself has no deadline (it lives as long as the watch); its creation does.
    stream.creationDeadline =
        serial.schedule(
            () -> {
              if (watch == stream && !stream.created && !closed) {
                handler.failed(
                    "Watch: no answer to the create request within " + timeout.toMillis() + " ms");
              }
            },
            timeout.toNanos(),
            TimeUnit.NANOSECONDS);
  }

  private void onWatchResponse(WatchStream stream, WatchResponse response) {
    if (response.getCreated()) {
      if (response.getCanceled()) {
        handler.failed("Watch: etcd refused the watch: " + reasonOf(response));
        return;
      }
      stream.created = true;
      stream.creationDeadline.cancel(false);
      handler.created(response.getHeader().getRevision());
      return;
    }
    if (response.getCompactRevision() != 0) {
      endWatch("compacted");
      handler.compacted(response.getCompactRevision());
      return;
    }
    if (response.getCanceled()) {
      handler.failed("Watch: etcd cancelled the watch: " + reasonOf(response));
      return;
    }
    if (response.getEventsCount() == 0) {
      return; // a progress notification; nothing to report
    }
    List<EtcdEvent> events = new ArrayList<>(response.getEventsCount());
    for (Event event : response.getEventsList()) {
      KeyValue kv = event.getKv();
      EtcdEvent.Type type =
          switch (event.getType()) {
            case PUT -> EtcdEvent.Type.PUT;
            case DELETE -> EtcdEvent.Type.DELETE;
            case UNRECOGNIZED -> null;
          };
      if (type == null) {
        handler.failed(
            "Watch: event of unknown type "
                + event.getTypeValue()
                + " for key "
                + kv.getKey().toStringUtf8());
        return;
      }
      events.add(
          new EtcdEvent(
              type,
              kv.getKey().toStringUtf8(),
              type == EtcdEvent.Type.PUT ? kv.getValue().toStringUtf8() : "",
              kv.getModRevision()));
    }
    handler.changed(List.copyOf(events));
  }

  private static String reasonOf(WatchResponse response) {
    return response.getCancelReason().isEmpty() ? "(no reason given)" : response.getCancelReason();
  }

  private void endWatch(String why) {
    WatchStream stream = watch;
    watch = null;
    if (stream != null) {
      stream.cancel(why);
    }
  }

  /** Ends the Range or watch under way and shuts the channel down; later callbacks are dropped. */
  void close() {
    if (closed) {
      return;
    }
    closed = true;
    endWatch("session closed");
    channel.shutdownNow();
  }

  private void post(Runnable task) {
    try {
      serial.execute(
          () -> {
            if (closed) {
              return;
            }
            try {
              task.run();
            } catch (RuntimeException e) {
              // A task of a scheduled executor that throws vanishes silently: make it a failure the
              // watch recovers from.
              log.error("etcd {}: unexpected error handling a response", endpoint, e);
              handler.failed("unexpected " + e);
            }
          });
    } catch (RejectedExecutionException e) {
      // The watch is closing: its thread takes no more work, and nobody waits for this.
    }
  }

  private static String describe(Throwable t) {
    Status status = Status.fromThrowable(t);
    StringBuilder text = new StringBuilder(status.getCode().toString());
    if (status.getDescription() != null) {
      text.append(": ").append(status.getDescription());
    }
    Throwable cause = status.getCause();
    if (cause != null
        && cause.getMessage() != null
        && !cause.getMessage().equals(status.getDescription())) {
      text.append(" (").append(cause.getMessage()).append(')');
    }
    return text.toString();
  }

  /** One Watch RPC; its callbacks count only while it is the session's current stream. */
  private final class WatchStream implements ClientResponseObserver<WatchRequest, WatchResponse> {

    private ClientCallStreamObserver<WatchRequest> requests;
    private ScheduledFuture<?> creationDeadline;
    private boolean created;

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchRequest> requestStream) {
      this.requests = requestStream;
    }

    @Override
    public void onNext(WatchResponse response) {
      post(
          () -> {
            if (watch == this) {
              onWatchResponse(this, response);
            }
          });
    }

    @Override
    public void onError(Throwable t) {
      post(
          () -> {
            if (watch == this) {
              handler.failed("Watch: " + describe(t));
            }
          });
    }

    @Override
    public void onCompleted() {
      post(
          () -> {
            if (watch == this) {
              handler.failed("Watch: etcd ended the watch stream");
            }
          });
    }

    void cancel(String why) {
      if (creationDeadline != null) {
        creationDeadline.cancel(false);
      }
      requests.cancel(why, null);
    }
  }
}
