package io.baton.sidecar.adminrpc;

import io.baton.proto.admin.v1.AbortRequest;
import io.baton.proto.admin.v1.BatonAdminGrpc;
import io.baton.proto.admin.v1.CommitRequest;
import io.baton.proto.admin.v1.DrainReply;
import io.baton.proto.admin.v1.DrainRequest;
import io.baton.proto.admin.v1.HandoffEvent;
import io.baton.proto.admin.v1.HoldReply;
import io.baton.proto.admin.v1.StatusReply;
import io.baton.proto.admin.v1.StatusRequest;
import io.baton.proto.admin.v1.UpgradeReply;
import io.baton.proto.admin.v1.UpgradeRequest;
import io.baton.proto.admin.v1.WatchHandoffRequest;
import io.baton.sidecar.upgrade.NextGenerationLauncher;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@code BatonAdmin} service of one process. */
final class AdminService extends BatonAdminGrpc.BatonAdminImplBase {

  private static final Logger log = LoggerFactory.getLogger(AdminService.class);

  private final AdminTarget target;

  AdminService(AdminTarget target) {
    this.target = target;
  }

  @Override
  public void status(StatusRequest request, StreamObserver<StatusReply> reply) {
    reply.onNext(target.status());
    reply.onCompleted();
  }

  @Override
  public void upgrade(UpgradeRequest request, StreamObserver<UpgradeReply> reply) {
    log.info(
        "admin.sock: upgrade requested (jar {}, config {}{})",
        orSame(request.getJar()),
        orSame(request.getConfig()),
        request.getHold() ? ", held" : "");
    NextGenerationLauncher.Launch launch =
        target.upgrade(
            pathOrNull(request.getJar()), pathOrNull(request.getConfig()), request.getHold());
    reply.onNext(
        UpgradeReply.newBuilder()
            .setResult(launch.result().label())
            .setPid(launch.pid())
            .setDetail(launch.detail())
            .build());
    reply.onCompleted();
  }

  @Override
  public void drain(DrainRequest request, StreamObserver<DrainReply> reply) {
    log.info("admin.sock: drain requested");
    reply.onNext(DrainReply.newBuilder().setConnectionsOpen(target.drain()).build());
    reply.onCompleted();
  }

  @Override
  public void commit(CommitRequest request, StreamObserver<HoldReply> reply) {
    log.info("admin.sock: commit requested");
    boolean held = target.commit();
    reply.onNext(
        HoldReply.newBuilder()
            .setHeld(held)
            .setDetail(
                held ? "the successor takes over; this process drains" : "no successor is held")
            .build());
    reply.onCompleted();
  }

  @Override
  public void abort(AbortRequest request, StreamObserver<HoldReply> reply) {
    String reason = request.getReason().isEmpty() ? "baton abort" : request.getReason();
    log.info("admin.sock: abort requested ({})", reason);
    boolean held = target.abort(reason);
    reply.onNext(
        HoldReply.newBuilder()
            .setHeld(held)
            .setDetail(
                held
                    ? "the successor drains what it accepted and exits; this process serves on"
                    : "no successor is held")
            .build());
    reply.onCompleted();
  }

  @Override
  public void watchHandoff(WatchHandoffRequest request, StreamObserver<HandoffEvent> events) {
    HandoffEventFeed feed = target.events();
    if (events instanceof ServerCallStreamObserver<HandoffEvent> call) {
      call.setOnCancelHandler(() -> feed.unsubscribe(events));
    }
    feed.subscribe(events);
    log.info("admin.sock: a watcher follows this process");
  }

  private static Path pathOrNull(String value) {
    return value.isEmpty() ? null : Path.of(value);
  }

  private static String orSame(String value) {
    return value.isEmpty() ? "unchanged" : value;
  }
}
