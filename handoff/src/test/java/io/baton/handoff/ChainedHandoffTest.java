package io.baton.handoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.UnixConnection;
import io.baton.handoff.os.UnixServer;
import io.baton.handoff.outgoing.OutgoingHandoff;
import io.baton.handoff.process.Handoff;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.handoff.wire.ReceivedFrame;
import io.baton.proto.handoff.v1.Draining;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.ListenerDescriptor;
import io.baton.proto.handoff.v1.Listeners;
import io.baton.proto.handoff.v1.RefusalReason;
import io.baton.proto.handoff.v1.Welcome;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Chained drains: a generation hands over while its predecessors still drain. Three or four Handoff
 * instances in one JVM play consecutive generations over real Unix sockets in a temp run directory,
 * passing a real TCP listener; each generation's application side is a {@link TestSource} whose
 * drain the test ends.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ChainedHandoffTest {

  private static final Duration STEP = Duration.ofSeconds(3);
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path tmp;
  private Path runDir;
  private Socket web;
  private final Deque<AutoCloseable> cleanup = new ArrayDeque<>();
  private final ListAppender<ILoggingEvent> outgoingLog = new ListAppender<>();

  record Generation(Handoff handoff, RecordingEvents events, TestSource source, long generation) {}

  @BeforeEach
  void setUp() throws Exception {
    runDir = tmp.resolve("run");
    Epoll.ensureAvailability(); // loads the native library the listener below uses
    web = TcpListeners.listening();
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(OutgoingHandoff.class);
    outgoingLog.start();
    logger.addAppender(outgoingLog);
    cleanup.push(() -> logger.detachAppender(outgoingLog));
  }

  @AfterEach
  void tearDown() throws Exception {
    while (!cleanup.isEmpty()) {
      cleanup.pop().close();
    }
    web.close();
  }

  private HandoffSettings settings(int maxDraining) {
    return new HandoffSettings(
        runDir,
        STEP,
        STEP,
        "test-1.0",
        IncomingStepObserver.NONE,
        HandoffSettings.Hold.NONE,
        maxDraining);
  }

  private Handoff open(RecordingEvents events, int maxDraining) throws HandoffException {
    Handoff handoff = Handoff.open(settings(maxDraining), events);
    cleanup.push(handoff);
    return handoff;
  }

  private Generation coldStart(int maxDraining) throws Exception {
    RecordingEvents events = new RecordingEvents();
    Handoff handoff = open(events, maxDraining);
    assertThat(handoff.arrive()).isInstanceOf(Arrival.ColdStart.class);
    TestSource source =
        new TestSource(
            1,
            List.of(
                new PassableListener(
                    "web", "127.0.0.1:" + web.localAddress().getPort(), "http", web.intValue())));
    handoff.serve(source, Set.of());
    return new Generation(handoff, events, source, 1);
  }

  /** The next generation takes over and serves; waits until its predecessor stopped accepting. */
  private Generation next(Generation previous, int maxDraining) throws Exception {
    RecordingEvents events = new RecordingEvents();
    Handoff handoff = open(events, maxDraining);
    Arrival.Takeover takeover = (Arrival.Takeover) handoff.arrive();
    takeover.listeners().forEach(l -> cleanup.push(() -> Fds.closeQuietly(l.fd())));
    TestSource source =
        new TestSource(
            takeover.generation(),
            takeover.listeners().stream()
                .map(l -> new PassableListener(l.name(), l.address(), l.protocol(), l.fd()))
                .toList());
    handoff.serve(
        source,
        takeover.listeners().stream().map(InheritedListener::name).collect(Collectors.toSet()));
    if (previous != null) {
      previous.source().drainBegun.get(5, TimeUnit.SECONDS);
    }
    return new Generation(handoff, events, source, takeover.generation());
  }

  private Generation next(Generation previous) throws Exception {
    return next(previous, HandoffSettings.DEFAULT_MAX_DRAINING);
  }

  private static CarriedCounter requests(double value) {
    return new CarriedCounter("baton.requests", Map.of("listener", "web"), value, "");
  }

  private static double requestsIn(List<CarriedCounter> counters) {
    return counters.stream()
        .filter(c -> c.name().equals("baton.requests"))
        .mapToDouble(CarriedCounter::value)
        .sum();
  }

  private void awaitLogLine(String text) {
    await()
        .atMost(WAIT)
        .until(
            () -> outgoingLog.list.stream().anyMatch(e -> e.getFormattedMessage().contains(text)));
  }

  @Test
  void aGenerationHandsOverWhileItsPredecessorDrainsAndThePredecessorIsHandedOn() throws Exception {
    Generation first = coldStart(3);
    Generation second = next(first);
    ConnectionSink firstSink = first.source().sink.get(5, TimeUnit.SECONDS);
    assertThat(firstSink.isOpen())
        .as("generation 1 sends live connections to generation 2")
        .isTrue();
    first.source().progress = new DrainProgress(1, 1); // the long request, held on generation 1

    Generation third = next(second);

    assertThat(third.generation())
        .as("welcomed by generation 2 while generation 1 still drains")
        .isEqualTo(3);
    assertThat(first.events().handedOn.poll(5, TimeUnit.SECONDS))
        .contains("SUCCESSOR_TOOK_OVER")
        .contains("generation 3");
    await().atMost(WAIT).until(() -> !firstSink.isOpen()); // the rest drains on generation 1 itself
    assertThat(first.source().rollBacks).isEmpty();
    // The newest sees the whole chain, relayed by generation 2: itself first, then generation 1.
    await().atMost(WAIT).until(() -> third.events().chain.size() == 2);
    assertThat(third.events().chain)
        .extracting(PredecessorDrain::generation)
        .containsExactly(2L, 1L);
    await().atMost(WAIT).until(() -> third.events().chain.get(1).progress().requestsActive() == 1);
    assertThat(third.handoff().drainingPredecessors())
        .extracting(PredecessorDrain::generation)
        .containsExactly(2L, 1L);
    assertThat(second.events().phases).contains("incoming_handed_on");
  }

  @Test
  void theFirstGenerationsFinalCountersTravelThroughTheSecondToTheThirdOnceEach() throws Exception {
    Generation first = coldStart(3);
    first.source().counters = List.of(requests(10));
    Generation second = next(first);
    // Generation 2's application adds what its predecessor's counters grew by, as CounterCarrier
    // does.
    second.source().counters = List.of(requests(10 + 5));
    second.events().whenPredecessorDrained =
        finals ->
            second.source().counters =
                List.of(requests(requestsIn(second.source().counters) + requestsIn(finals) - 10));
    Generation third = next(second);
    assertThat(requestsIn(third.events().stoppedAcceptingCounters.poll(5, TimeUnit.SECONDS)))
        .isEqualTo(15);

    // Generation 2's own connections are done, but generation 1 still drains: no DrainFinished yet.
    second.source().finishDrain(0, Duration.ofMillis(5));
    awaitLogLine("own drain finished; waiting for the older generations [1]");
    assertThat(second.handoff().successorTookOver()).isNotDone();
    assertThat(third.events().finalCounters).isEmpty();

    // Generation 1 served 3 more requests during its drain, then finishes.
    first.source().counters = List.of(requests(13));
    first.source().finishDrain(0, Duration.ofMillis(20));

    assertThat(requestsIn(second.events().finalCounters.poll(5, TimeUnit.SECONDS)))
        .as("generation 1's final counters reach its own successor")
        .isEqualTo(13);
    assertThat(requestsIn(third.events().finalCounters.poll(5, TimeUnit.SECONDS)))
        .as("and travel on inside generation 2's: 10 + 5 by 2 + 3 late ones of 1, once each")
        .isEqualTo(18);
    assertThat(first.events().nextEnded().result()).isEqualTo(HandoffResult.SUCCESS);
    assertThat(second.events().nextEnded().result()).isEqualTo(HandoffResult.SUCCESS);
    assertThat(second.handoff().successorTookOver().get(5, TimeUnit.SECONDS)).isNotNull();
    await().atMost(WAIT).until(() -> third.handoff().drainingPredecessors().isEmpty());
  }

  @Test
  void aPredecessorThatOutlivesItsDrainDeadlineIsNotWaitedForBeyondItPlusTheStepTimeout()
      throws Exception {
    Generation first = coldStart(3);
    first.source().deadlineUnixMillis =
        System.currentTimeMillis(); // it should be gone by now: it hangs
    Generation second = next(first);
    second.source().counters = List.of(requests(7));
    Generation third = next(second);

    second.source().finishDrain(0, Duration.ofMillis(5));

    assertThat(
            requestsIn(third.events().finalCounters.poll(STEP.toSeconds() + 5, TimeUnit.SECONDS)))
        .as(
            "generation 2 says DrainFinished with its own counters once generation 1's deadline +"
                + " the step timeout passed")
        .isEqualTo(7);
    awaitLogLine("the predecessor outlived its drain deadline");
    assertThat(second.handoff().successorTookOver()).isDone();
    assertThat(first.source().rollBacks).isEmpty();
  }

  @Test
  void whenTheActiveGenerationDiesOnlyTheNewestDrainingOneRollsBack() throws Exception {
    Generation first = coldStart(3);
    Generation second = next(first);
    Generation third = next(second);
    first.events().handedOn.poll(5, TimeUnit.SECONDS);

    third.handoff().close(); // generation 3 dies after Ready

    assertThat(second.events().nextEnded().result()).isEqualTo(HandoffResult.ROLLED_BACK);
    assertThat(second.source().rollBacks.poll(5, TimeUnit.SECONDS)).isNotNull();
    assertThat(first.source().rollBacks)
        .as("generation 1 was handed on: it never accepts again")
        .isEmpty();
    // Generation 2 serves reconfig.sock again and still has generation 1 draining behind it.
    Generation nextThird = next(second);
    assertThat(nextThird.generation()).isEqualTo(3);
    await().atMost(WAIT).until(() -> nextThird.events().chain.size() == 2);
    first.source().finishDrain(0, Duration.ofMillis(5));
    assertThat(first.events().nextEnded().result()).isEqualTo(HandoffResult.SUCCESS);
    assertThat(first.source().rollBacks).isEmpty();
  }

  @Test
  void aHandedOnGenerationWhoseSuccessorDiesDrainsOnWithoutRollingBack() throws Exception {
    Generation first = coldStart(3);
    Generation second = next(first);
    Generation third = next(second);
    first.events().handedOn.poll(5, TimeUnit.SECONDS);

    second.handoff().close(); // the middle generation dies while both older and newer live

    awaitLogLine("closed reconfig.sock after HandedOn; no rollback");
    assertThat(first.source().rollBacks).isEmpty();
    await().atMost(WAIT).until(() -> third.handoff().drainingPredecessors().isEmpty());
    first.source().finishDrain(0, Duration.ofMillis(5));
    assertThat(first.events().nextEnded().result()).isEqualTo(HandoffResult.SUCCESS);
    assertThat(first.source().rollBacks).isEmpty();
    Generation fourth = next(third);
    assertThat(fourth.generation())
        .as("generation 3 is the active one and hands over as usual")
        .isEqualTo(4);
  }

  @Test
  void theActiveGenerationStoppingForGoodTellsItsDrainingPredecessorNotToRollBack()
      throws Exception {
    Generation first = coldStart(3);
    Generation second = next(first);

    second.handoff().stopping("SIGTERM");
    second.handoff().close();

    assertThat(first.events().handedOn.poll(5, TimeUnit.SECONDS))
        .contains("STOPPING")
        .contains("SIGTERM");
    awaitLogLine("closed reconfig.sock after HandedOn; no rollback");
    assertThat(first.source().rollBacks).isEmpty();
  }

  @Test
  void withoutHandedOnTheSuccessorsDeathStillRollsBack() throws Exception {
    Generation first = coldStart(3);
    Generation second = next(first);

    second.handoff().close();

    assertThat(first.events().nextEnded().result()).isEqualTo(HandoffResult.ROLLED_BACK);
    assertThat(first.events().handedOn).isEmpty();
  }

  @Test
  void aHandoffIsRefusedWhileMaxDrainingGenerationsDrainAndWelcomedOnceOneHasDrained()
      throws Exception {
    Generation first = coldStart(2);
    Generation second = next(first, 2);
    Generation third = next(second, 2);

    Handoff fourth = open(new RecordingEvents(), 2);
    assertThatThrownBy(fourth::arrive)
        .isInstanceOfSatisfying(
            HandoffRefusedException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(RefusalReason.PREDECESSOR_DRAINING);
              assertThat(e.getMessage())
                  .contains("generations [2, 1] still drain")
                  .contains("handoff.maxDraining 2");
            });
    assertThat(third.events().nextEnded().result()).isEqualTo(HandoffResult.REFUSED);

    first.source().finishDrain(0, Duration.ofMillis(5));
    await().atMost(WAIT).until(() -> third.handoff().drainingPredecessors().size() == 1);
    assertThat(next(third, 2).generation()).isEqualTo(4);
  }

  @Test
  void maxDrainingOneRefusesEveryHandoffWhileThePredecessorDrains() throws Exception {
    Generation first = coldStart(1);
    Generation second = next(first, 1);

    Handoff early = open(new RecordingEvents(), 1);
    assertThatThrownBy(early::arrive)
        .isInstanceOfSatisfying(
            HandoffRefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(RefusalReason.PREDECESSOR_DRAINING));
    assertThat(first.events().handedOn).as("a refused peer changes nothing").isEmpty();
  }

  /**
   * A predecessor of an older binary (its Welcome has no protocol_revision) would roll back when
   * its successor exits, since it cannot be told HandedOn: its successor refuses to hand over while
   * it drains, as before chained drains.
   */
  @Test
  void aRevisionOnePredecessorIsNeverHandedOnItsSuccessorRefusesUntilItHasDrained()
      throws Exception {
    Files.createDirectories(
        runDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    UnixServer oldReconfig = UnixServer.bind(runDir.resolve("reconfig.sock"));
    cleanup.push(oldReconfig);
    CompletableFuture<ControlChannel> oldSide =
        CompletableFuture.supplyAsync(() -> playRevisionOnePredecessor(oldReconfig));

    Generation second = next(null);
    ControlChannel toSecond = oldSide.get(10, TimeUnit.SECONDS);
    cleanup.push(toSecond);
    assertThat(second.generation()).isEqualTo(2);

    Handoff third = open(new RecordingEvents(), 3);
    assertThatThrownBy(third::arrive)
        .isInstanceOfSatisfying(
            HandoffRefusedException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(RefusalReason.PREDECESSOR_DRAINING);
              assertThat(e.getMessage())
                  .contains("revision 1")
                  .contains("could not be told HandedOn");
            });

    toSecond.close(); // the old one exits: nothing older drains now
    await().atMost(WAIT).until(() -> second.handoff().drainingPredecessors().isEmpty());
    assertThat(next(second).generation()).isEqualTo(3);
  }

  /** Generation 1 of an older binary: protocol revision 1, up to Draining. */
  private ControlChannel playRevisionOnePredecessor(UnixServer server) {
    try {
      ControlChannel channel = new ControlChannel(server.accept(WAIT));
      ReceivedFrame hello = channel.receive(WAIT);
      assertThat(hello.bodyCase()).isEqualTo(Envelope.BodyCase.HELLO);
      assertThat(hello.envelope().getHello().getProtocolRevision())
          .isEqualTo(ProtocolVersion.REVISION);
      channel.send(
          ProtocolVersion.envelope()
              .setWelcome(
                  Welcome.newBuilder()
                      .setPid((int) ProcessHandle.current().pid())
                      .setBuildVersion("old")
                      .setGeneration(1))
              .build());
      String listenPath = channel.receive(WAIT).envelope().getListenSocketReady().getPath();
      try (ControlChannel listen =
          new ControlChannel(UnixConnection.connect(Path.of(listenPath), WAIT))) {
        listen.send(
            ProtocolVersion.envelope()
                .setListeners(
                    Listeners.newBuilder()
                        .setGeneration(1)
                        .addListeners(
                            ListenerDescriptor.newBuilder()
                                .setName("web")
                                .setAddress("127.0.0.1:" + web.localAddress().getPort())
                                .setProtocol("http")))
                .build(),
            web.intValue());
        listen.receive(WAIT);
      }
      assertThat(channel.receive(WAIT).bodyCase()).isEqualTo(Envelope.BodyCase.READY);
      channel.send(ProtocolVersion.envelope().setDraining(Draining.getDefaultInstance()).build());
      return channel;
    } catch (Exception e) {
      throw new CompletionException(e);
    }
  }
}
