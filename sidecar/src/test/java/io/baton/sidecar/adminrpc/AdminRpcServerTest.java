package io.baton.sidecar.adminrpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.baton.handoff.process.Handoff;
import io.baton.proto.admin.v1.HandoffEvent;
import io.baton.proto.admin.v1.StatusReply;
import io.baton.sidecar.upgrade.NextGenerationLauncher;
import io.baton.sidecar.upgrade.UpgradeResult;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The admin API over a real Unix socket: published name, peer check, streams that end at stop. */
@Timeout(60)
class AdminRpcServerTest {

  @TempDir Path runDir;

  private EventLoopGroup loops;
  private final HandoffEventFeed feed = new HandoffEventFeed(Clock.systemUTC());
  private final AdminTarget target =
      new AdminTarget() {
        @Override
        public StatusReply status() {
          return StatusReply.newBuilder().setGeneration(7).setPhase("SERVING").build();
        }

        @Override
        public NextGenerationLauncher.Launch upgrade(Path jar, Path config, boolean hold) {
          return new NextGenerationLauncher.Launch(
              UpgradeResult.BUSY, 0, "a test refuses: " + jar + " " + config + " " + hold);
        }

        @Override
        public boolean commit() {
          return false;
        }

        @Override
        public boolean abort(String reason) {
          return reason.equals("held one");
        }

        @Override
        public long drain() {
          return 3;
        }

        @Override
        public HandoffEventFeed events() {
          return feed;
        }
      };

  @BeforeEach
  void setUp() throws Exception {
    Files.setPosixFilePermissions(runDir, PosixFilePermissions.fromString("rwx------"));
    loops = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  }

  @AfterEach
  void tearDown() {
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void aCallerOfTheOwnUidIsAnsweredOncePublished() throws Exception {
    try (AdminRpcServer server =
        AdminRpcServer.start(
            runDir.resolve("admin.sock.test"),
            target,
            new PeerPolicy(Handoff.ownUid(), true),
            loops)) {
      assertThatThrownBy(() -> AdminClient.connect(runDir, Duration.ofSeconds(5)))
          .as("not published yet: admin.sock names nothing")
          .isInstanceOf(AdminUnavailableException.class)
          .hasMessageContaining("no such socket");

      server.publish();

      try (AdminClient client = AdminClient.connect(runDir, Duration.ofSeconds(5))) {
        assertThat(client.status().getGeneration()).isEqualTo(7);
        assertThat(client.upgrade("/x.jar", "", true).getDetail())
            .isEqualTo("a test refuses: /x.jar null true");
        assertThat(client.commit().getHeld()).isFalse();
        assertThat(client.abort("held one").getHeld()).isTrue();
        assertThat(client.drain().getConnectionsOpen()).isEqualTo(3);
      }
      assertThat(Files.getPosixFilePermissions(runDir.resolve("admin.sock")))
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }
    assertThat(runDir.resolve("admin.sock")).as("removed by its owner at close").doesNotExist();
  }

  @Test
  void aCallerTheSocketCredentialsDoNotAllowIsRefusedBeforeAnyCall() throws Exception {
    // Root may always call in production; a policy for another uid, root excluded, must refuse this
    // test's process whatever uid it runs as.
    long notUs = Handoff.ownUid() == 65534 ? 65533 : 65534;
    try (AdminRpcServer server =
        AdminRpcServer.start(
            runDir.resolve("admin.sock.test"), target, new PeerPolicy(notUs, false), loops)) {
      server.publish();
      try (AdminClient client = AdminClient.connect(runDir, Duration.ofSeconds(5))) {
        assertThatThrownBy(client::status)
            .isInstanceOf(AdminUnavailableException.class)
            .hasMessageContaining("UNAVAILABLE");
      }
    }
  }

  @Test
  void aWatcherGetsEveryEventAfterItSubscribedAndItsStreamEndsWhenTheProcessStops()
      throws Exception {
    try (AdminRpcServer server =
        AdminRpcServer.start(
            runDir.resolve("admin.sock.test"),
            target,
            new PeerPolicy(Handoff.ownUid(), true),
            loops)) {
      server.publish();
      List<HandoffEvent> seen = new CopyOnWriteArrayList<>();
      CompletableFuture<Void> ended = new CompletableFuture<>();
      Thread watcher =
          new Thread(
              () -> {
                try (AdminClient client = AdminClient.connect(runDir, Duration.ofSeconds(5))) {
                  client.watch(seen::add);
                  ended.complete(null);
                } catch (RuntimeException e) {
                  ended.completeExceptionally(e);
                }
              });
      watcher.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> feed.watchers() == 1);
      feed.publish("listeners_sent", "took 3 ms", null);
      feed.publish("stopped", "", null);
      feed.end();

      ended.get(10, TimeUnit.SECONDS);
      assertThat(seen)
          .extracting(HandoffEvent::getPhase)
          .containsExactly("listeners_sent", "stopped");
      assertThat(seen.get(0).getDetail()).isEqualTo("took 3 ms");
    }
  }
}
