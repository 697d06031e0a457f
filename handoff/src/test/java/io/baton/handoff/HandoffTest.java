package io.baton.handoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.UnixConnection;
import io.baton.handoff.os.UnixServer;
import io.baton.handoff.outgoing.OutgoingHandoff;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.process.Handoff;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.handoff.wire.ReceivedFrame;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.Hello;
import io.baton.proto.handoff.v1.Ready;
import io.baton.proto.handoff.v1.RefusalReason;
import io.netty.channel.unix.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.slf4j.LoggerFactory;

/**
 * Two (or three) Handoff instances in one JVM play consecutive generations over real Unix sockets
 * in a temp run directory, passing real TCP listeners.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
// Two Socket types meet here: Netty's fd-level unix.Socket (imported) and java.net.Socket.
@SuppressWarnings("InlineQualifiedName")
class HandoffTest {

  private static final Duration STEP = Duration.ofSeconds(3);
  private static final Duration READY = Duration.ofSeconds(5);

  @TempDir Path tmp;
  private Path runDir;
  private TcpListeners tcp;
  private Socket web;
  private Socket grpc;
  private final Deque<AutoCloseable> cleanup = new ArrayDeque<>();

  /** One process's part: its Handoff, what it reported, and its application side. */
  record Generation(Handoff handoff, RecordingEvents events, TestSource source, Arrival arrival) {}

  @BeforeEach
  void setUp() throws Exception {
    runDir = tmp.resolve("run"); // created 0700 by Handoff.open
    tcp = new TcpListeners();
    web = TcpListeners.listening();
    grpc = TcpListeners.listening();
  }

  @AfterEach
  void tearDown() throws Exception {
    while (!cleanup.isEmpty()) {
      cleanup.pop().close();
    }
    web.close();
    grpc.close();
    tcp.close();
  }

  private HandoffSettings settings(Duration step, Duration ready, IncomingStepObserver observer) {
    return new HandoffSettings(runDir, step, ready, "test-1.0", observer);
  }

  private Handoff open(RecordingEvents events, HandoffSettings settings) throws HandoffException {
    Handoff handoff = Handoff.open(settings, events);
    cleanup.push(handoff);
    return handoff;
  }

  private List<PassableListener> ourListeners() {
    return List.of(
        new PassableListener(
            "web", "127.0.0.1:" + web.localAddress().getPort(), "http", web.intValue()),
        new PassableListener(
            "grpc", "127.0.0.1:" + grpc.localAddress().getPort(), "tcp", grpc.intValue()));
  }

  /** A generation that cold-starts and serves reconfig.sock. */
  private Generation coldStart(long generation) throws Exception {
    RecordingEvents events = new RecordingEvents();
    Handoff handoff = open(events, settings(STEP, READY, IncomingStepObserver.NONE));
    Arrival arrival = handoff.arrive();
    assertThat(arrival).isInstanceOf(Arrival.ColdStart.class);
    TestSource source = new TestSource(generation, ourListeners());
    handoff.serve(source, Set.of());
    return new Generation(handoff, events, source, arrival);
  }

  /** A successor that arrives (takeover) and, if {@code serve}, says Ready and serves. */
  private Generation successor(HandoffSettings settings, boolean serve) throws Exception {
    RecordingEvents events = new RecordingEvents();
    Handoff handoff = open(events, settings);
    Arrival arrival = handoff.arrive();
    assertThat(arrival).isInstanceOf(Arrival.Takeover.class);
    Arrival.Takeover takeover = (Arrival.Takeover) arrival;
    for (InheritedListener l : takeover.listeners()) {
      cleanup.push(() -> Fds.closeQuietly(l.fd()));
    }
    TestSource source =
        new TestSource(
            takeover.generation(),
            takeover.listeners().stream()
                .map(l -> new PassableListener(l.name(), l.address(), l.protocol(), l.fd()))
                .toList());
    if (serve) {
      handoff.serve(
          source,
          takeover.listeners().stream().map(InheritedListener::name).collect(Collectors.toSet()));
    }
    return new Generation(handoff, events, source, arrival);
  }

  private Generation successor() throws Exception {
    return successor(settings(STEP, READY, IncomingStepObserver.NONE), true);
  }

  /** After a refusal or failure: a well-behaved successor still takes over from {@code old}. */
  private void assertAValidHandoffStillWorks(Generation old) throws Exception {
    Generation next = successor();
    assertThat(((Arrival.Takeover) next.arrival()).generation())
        .isEqualTo(old.source().generation + 1);
    old.source().drainBegun.get(5, TimeUnit.SECONDS);
    old.source().finishDrain(0, Duration.ofMillis(10));
    assertThat(old.events().nextEnded().result()).isEqualTo(HandoffResult.SUCCESS);
    assertThat(old.handoff().successorTookOver().get(5, TimeUnit.SECONDS).closedAtDeadline())
        .isZero();
  }

  private ControlChannel rawClient() throws Exception {
    ControlChannel channel =
        new ControlChannel(UnixConnection.connect(runDir.resolve("reconfig.sock"), STEP));
    cleanup.push(channel);
    return channel;
  }

  private static Envelope hello(int protocolVersion, long pid) {
    return Envelope.newBuilder()
        .setProtocolVersion(protocolVersion)
        .setHello(Hello.newBuilder().setPid((int) pid).setBuildVersion("raw"))
        .build();
  }

  private static final long OWN_PID = ProcessHandle.current().pid();

  // ---------------------------------------------------------------- arrival

  /**
   * Two processes started at once (two slots of a pod without the postStart ordering): the second
   * waits while the first decides and cold-starts, then takes over from it; before the arrival lock
   * both found no reconfig.sock and both cold-started, and one failed to bind.
   */
  @Test
  void aProcessArrivingWhileAnotherColdStartsWaitsAndTakesOverFromIt() throws Exception {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Handoff.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    cleanup.push(() -> logger.detachAppender(appender));
    RecordingEvents firstEvents = new RecordingEvents();
    Handoff first = open(firstEvents, settings(STEP, READY, IncomingStepObserver.NONE));
    assertThat(first.arrive()).isInstanceOf(Arrival.ColdStart.class);

    CompletableFuture<Generation> second =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return successor(settings(STEP, READY, IncomingStepObserver.NONE), true);
              } catch (Exception e) {
                throw new CompletionException(e);
              }
            });
    await()
        .atMost(STEP)
        .until(
            () ->
                appender.list.stream()
                    .anyMatch(
                        e -> e.getFormattedMessage().contains("another process is starting")));
    assertThat(second).as("waits while the first has not published reconfig.sock").isNotDone();

    TestSource source = new TestSource(1, ourListeners());
    first.serve(source, Set.of());
    Generation next = second.get(10, TimeUnit.SECONDS);
    assertThat(((Arrival.Takeover) next.arrival()).generation()).isEqualTo(2);
    source.drainBegun.get(5, TimeUnit.SECONDS);
    source.finishDrain(0, Duration.ofMillis(10));
    assertThat(firstEvents.nextEnded().result()).isEqualTo(HandoffResult.SUCCESS);
  }

  @Test
  void aProcessWaitingForAnotherThatHoldsTheArrivalTurnTooLongFailsNamingTheLock()
      throws Exception {
    Handoff first = open(new RecordingEvents(), settings(STEP, READY, IncomingStepObserver.NONE));
    assertThat(first.arrive()).isInstanceOf(Arrival.ColdStart.class);
    Handoff second =
        open(
            new RecordingEvents(),
            settings(STEP, Duration.ofMillis(300), IncomingStepObserver.NONE));

    assertThatThrownBy(second::arrive)
        .isInstanceOf(HandoffException.class)
        .hasMessageContaining(
            "arrival.lock is still held after PT0.3S by another process starting in");
    first.abort("cannot bind");
    Handoff third = open(new RecordingEvents(), settings(STEP, READY, IncomingStepObserver.NONE));
    assertThat(third.arrive())
        .as("the turn is free once the first gave up")
        .isInstanceOf(Arrival.ColdStart.class);
  }

  @Test
  void coldStartWhenNoSocket() throws Exception {
    Generation first = coldStart(1);

    Path reconfig = runDir.resolve("reconfig.sock");
    assertThat(reconfig).as("serve publishes reconfig.sock").exists();
    assertThat(Files.getPosixFilePermissions(runDir))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    assertThat(Files.getPosixFilePermissions(reconfig))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(first.events().ended).isEmpty();
  }

  @Test
  void staleSocketMeansColdStartAndIsRemoved() throws Exception {
    Files.createDirectories(
        runDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path reconfig = runDir.resolve("reconfig.sock");
    // A socket file nobody listens on: what a SIGKILLed active process leaves behind.
    UnixServer.bind(reconfig).close();
    assertThat(reconfig).exists();

    Handoff handoff = open(new RecordingEvents(), settings(STEP, READY, IncomingStepObserver.NONE));
    assertThat(handoff.arrive()).isInstanceOf(Arrival.ColdStart.class);
    assertThat(reconfig).as("the stale socket is removed").doesNotExist();
  }

  @Test
  void runDirWritableByOthersIsRefused() throws Exception {
    Files.createDirectories(runDir);
    Files.setPosixFilePermissions(runDir, PosixFilePermissions.fromString("rwxrwxrwx"));

    assertThatThrownBy(
            () ->
                Handoff.open(settings(STEP, READY, IncomingStepObserver.NONE), HandoffEvents.NONE))
        .isInstanceOf(HandoffException.class)
        .hasMessageContaining(runDir.toString())
        .hasMessageContaining("rwxrwxrwx")
        .hasMessageContaining("writable by group or others")
        .hasMessageContaining("expected: mode 0700");
  }

  // ---------------------------------------------------------------- takeover

  @Test
  void takeoverPassesEveryListenerAndTheReceivedFdAcceptsConnections() throws Exception {
    coldStart(1);

    Generation second = successor(settings(STEP, READY, IncomingStepObserver.NONE), false);

    Arrival.Takeover takeover = (Arrival.Takeover) second.arrival();
    assertThat(takeover.predecessorPid()).isEqualTo(OWN_PID);
    assertThat(takeover.predecessorVersion()).isEqualTo("test-1.0");
    assertThat(takeover.listeners())
        .extracting(InheritedListener::name, InheritedListener::protocol)
        .containsExactly(Tuple.tuple("web", "http"), Tuple.tuple("grpc", "tcp"));
    assertThat(takeover.listeners())
        .extracting(InheritedListener::fd)
        .as("the successor gets its own copies, not the predecessor's fd numbers")
        .doesNotContain(web.intValue(), grpc.intValue());
    assertThat(runDir.resolve("listen.sock"))
        .as("listen.sock is removed once the listeners arrived")
        .doesNotExist();

    tcp.assertAcceptsConnections(takeover.listeners().get(0).fd(), web.localAddress().getPort());
    tcp.assertAcceptsConnections(takeover.listeners().get(1).fd(), grpc.localAddress().getPort());
  }

  @Test
  void generationIsPredecessorsPlusOne() throws Exception {
    Generation seventh = coldStart(7);

    Generation eighth = successor();

    assertThat(((Arrival.Takeover) eighth.arrival()).generation()).isEqualTo(8);
    seventh.source().drainBegun.get(5, TimeUnit.SECONDS);
    assertThat(seventh.source().adopted.get(5, TimeUnit.SECONDS))
        .as("Ready tells the predecessor which listeners the successor accepts on")
        .containsExactlyInAnyOrder("web", "grpc");
    assertThat(eighth.events().phases)
        .containsSubsequence(
            "incoming_welcomed",
            "incoming_listeners_received",
            "incoming_ready_sent",
            "incoming_draining_acknowledged");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> seventh.events().phases.contains("outgoing_draining"));
    assertThat(seventh.events().phases)
        .containsSubsequence(
            "outgoing_welcome",
            "outgoing_listeners_sent",
            "outgoing_ready_received",
            "outgoing_draining");
  }

  @Test
  void stepObserverSeesTheIncomingStepsInOrder() throws Exception {
    coldStart(1);
    List<IncomingStep> steps = new CopyOnWriteArrayList<>();

    successor(settings(STEP, READY, steps::add), true);

    assertThat(steps)
        .containsExactly(
            IncomingStep.WELCOMED, IncomingStep.LISTENERS_RECEIVED, IncomingStep.READY_SENT);
  }

  // ---------------------------------------------------------------- refusals

  @Test
  void refusesWrongProtocolVersion() throws Exception {
    Generation old = coldStart(1);
    ControlChannel raw = rawClient();

    raw.send(hello(ProtocolVersion.CURRENT + 1, OWN_PID));

    ReceivedFrame answer = raw.receive(STEP);
    assertThat(answer.envelope().getRefusal().getReason())
        .isEqualTo(RefusalReason.PROTOCOL_VERSION_MISMATCH);
    assertThat(answer.envelope().getRefusal().getDetail())
        .contains("protocol_version: 2 (expected: 1)");
    assertThat(old.events().nextEnded().result()).isEqualTo(HandoffResult.REFUSED);
    assertThat(old.source().drainBegun).isNotDone();
    assertAValidHandoffStillWorks(old);
  }

  @Test
  void refusesGarbageBytesAndServesOn() throws Exception {
    Generation old = coldStart(1);
    UnixConnection raw = UnixConnection.connect(runDir.resolve("reconfig.sock"), STEP);
    cleanup.push(raw);

    raw.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));

    ReceivedFrame answer = new ControlChannel(raw).receive(STEP);
    assertThat(answer.envelope().getRefusal().getReason())
        .isEqualTo(RefusalReason.MALFORMED_MESSAGE);
    assertThat(old.events().nextEnded())
        .extracting(RecordingEvents.Ended::result)
        .isEqualTo(HandoffResult.REFUSED);
    assertAValidHandoffStillWorks(old);
  }

  @Test
  void refusesUnparseableFrameAndServesOn() throws Exception {
    Generation old = coldStart(1);
    UnixConnection raw = UnixConnection.connect(runDir.resolve("reconfig.sock"), STEP);
    cleanup.push(raw);

    // A well-framed body that is not an Envelope (field 1 with wire type 7 does not exist).
    raw.write(new byte[] {0, 0, 0, 3, (byte) 0x0f, (byte) 0xff, (byte) 0xff});

    ReceivedFrame answer = new ControlChannel(raw).receive(STEP);
    assertThat(answer.envelope().getRefusal().getReason())
        .isEqualTo(RefusalReason.MALFORMED_MESSAGE);
    assertThat(old.events().nextEnded().result()).isEqualTo(HandoffResult.REFUSED);
    assertAValidHandoffStillWorks(old);
  }

  @Test
  void refusesAnUnexpectedFirstMessage() throws Exception {
    Generation old = coldStart(1);
    ControlChannel raw = rawClient();

    raw.send(ProtocolVersion.envelope().setReady(Ready.getDefaultInstance()).build());

    assertThat(raw.receive(STEP).envelope().getRefusal().getReason())
        .isEqualTo(RefusalReason.UNEXPECTED_MESSAGE);
    assertThat(old.events().nextEnded().result()).isEqualTo(HandoffResult.REFUSED);
    assertAValidHandoffStillWorks(old);
  }

  @Test
  void refusesHelloWhosePidDoesNotMatchPeer() throws Exception {
    Generation old = coldStart(1);
    ControlChannel raw = rawClient();

    raw.send(hello(ProtocolVersion.CURRENT, OWN_PID + 1));

    ReceivedFrame answer = raw.receive(STEP);
    assertThat(answer.envelope().getRefusal().getReason())
        .isEqualTo(RefusalReason.PEER_PID_MISMATCH);
    assertThat(old.events().nextEnded().result()).isEqualTo(HandoffResult.REFUSED);
    assertAValidHandoffStillWorks(old);
  }

  /**
   * A pod without a shared process namespace, or {@code unshare --pid}: the successor is pid 1 in a
   * namespace of its own, and the kernel shows it here under another number. Comparing the two
   * anyway refused every container-to-container handoff.
   */
  @Test
  void welcomesAHelloFromAnotherPidNamespaceWhateverPidItSays() throws Exception {
    Generation old = coldStart(1);
    ControlChannel raw = rawClient();
    long otherNamespace = ProcessIdentity.ofThisProcess().pidNamespace() + 1;

    raw.send(
        Envelope.newBuilder()
            .setProtocolVersion(ProtocolVersion.CURRENT)
            .setHello(
                Hello.newBuilder()
                    .setPid(1)
                    .setPidNamespace(otherNamespace)
                    .setInstanceId(ProcessIdentity.newInstanceId())
                    .setBuildVersion("raw"))
            .build());

    assertThat(raw.receive(STEP).envelope().getBodyCase()).isEqualTo(Envelope.BodyCase.WELCOME);
    raw.close();
    assertThat(old.events().nextEnded().result())
        .as("the raw peer left after Welcome")
        .isEqualTo(HandoffResult.FAILED);
    assertAValidHandoffStillWorks(old);
  }

  @Test
  void refusesHelloWhosePidDiffersInOurOwnPidNamespace() throws Exception {
    Generation old = coldStart(1);
    ControlChannel raw = rawClient();

    raw.send(
        Envelope.newBuilder()
            .setProtocolVersion(ProtocolVersion.CURRENT)
            .setHello(
                Hello.newBuilder()
                    .setPid((int) OWN_PID + 1)
                    .setPidNamespace(ProcessIdentity.ofThisProcess().pidNamespace())
                    .setBuildVersion("raw"))
            .build());

    ReceivedFrame answer = raw.receive(STEP);
    assertThat(answer.envelope().getRefusal().getReason())
        .isEqualTo(RefusalReason.PEER_PID_MISMATCH);
    assertThat(answer.envelope().getRefusal().getDetail())
        .contains("pid " + OWN_PID + " (expected: " + (OWN_PID + 1));
    assertThat(old.events().nextEnded().result()).isEqualTo(HandoffResult.REFUSED);
    assertAValidHandoffStillWorks(old);
  }

  @Test
  void refusesSecondConcurrentHandoff() throws Exception {
    Generation old = coldStart(1);
    CountDownLatch welcomed = new CountDownLatch(1);
    CountDownLatch goOn = new CountDownLatch(1);
    IncomingStepObserver pauseAtWelcome =
        step -> {
          if (step == IncomingStep.WELCOMED) {
            welcomed.countDown();
            try {
              goOn.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
    CompletableFuture<Generation> first = new CompletableFuture<>();
    Thread firstThread =
        new Thread(
            () -> {
              try {
                first.complete(successor(settings(STEP, READY, pauseAtWelcome), true));
              } catch (Throwable t) {
                first.completeExceptionally(t);
              }
            },
            "test-first-successor");
    firstThread.start();
    assertThat(welcomed.await(10, TimeUnit.SECONDS)).as("first successor welcomed").isTrue();

    Handoff second = open(new RecordingEvents(), settings(STEP, READY, IncomingStepObserver.NONE));
    assertThatThrownBy(second::arrive)
        .isInstanceOfSatisfying(
            HandoffRefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(RefusalReason.HANDOFF_IN_PROGRESS));
    RecordingEvents.Ended ended = old.events().nextEnded();
    assertThat(ended.result()).isEqualTo(HandoffResult.REFUSED);
    assertThat(ended.detail()).contains("HANDOFF_IN_PROGRESS");

    // The paused handoff is untouched by the refusal and completes.
    goOn.countDown();
    Generation firstSuccessor = first.get(10, TimeUnit.SECONDS);
    assertThat(((Arrival.Takeover) firstSuccessor.arrival()).generation()).isEqualTo(2);
    old.source().drainBegun.get(5, TimeUnit.SECONDS);
  }

  @Test
  void refusalIsLoggedWithSocketPeerAndPhase() throws Exception {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(OutgoingHandoff.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    cleanup.push(() -> logger.detachAppender(appender));
    Generation old = coldStart(1);
    UnixConnection raw = UnixConnection.connect(runDir.resolve("reconfig.sock"), STEP);
    cleanup.push(raw);

    raw.write(new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef});
    assertThat(old.events().nextEnded().result()).isEqualTo(HandoffResult.REFUSED);

    assertThat(appender.list)
        .filteredOn(e -> e.getLevel() == Level.WARN)
        .extracting(ILoggingEvent::getFormattedMessage)
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains(runDir.resolve("reconfig.sock").toString())
                    .contains("MALFORMED_MESSAGE")
                    .contains("peer pid " + OWN_PID + " uid " + Fds.ownUid())
                    .contains("phase AWAITING_HELLO"));
  }

  // ---------------------------------------------------------------- failures before Ready

  @Test
  void newDyingBeforeReadyLeavesOldServing() throws Exception {
    Generation old = coldStart(1);
    Generation dying = successor(settings(STEP, READY, IncomingStepObserver.NONE), false);

    dying.handoff().close(); // the reconfig.sock connection closes as it would if the process died

    RecordingEvents.Ended ended = old.events().nextEnded();
    assertThat(ended.result()).isEqualTo(HandoffResult.FAILED);
    assertThat(ended.detail()).contains("closed the connection");
    assertThat(runDir.resolve("listen.sock")).doesNotExist();
    assertThat(runDir.resolve("conn.sock")).doesNotExist();
    assertThat(old.source().drainBegun).as("old never stopped accepting").isNotDone();
    assertThat(old.source().rollBacks).isEmpty();
    assertAValidHandoffStillWorks(old);
  }

  @Test
  void newAbortingBeforeReadyLeavesOldServing() throws Exception {
    Generation old = coldStart(1);
    Generation giving = successor(settings(STEP, READY, IncomingStepObserver.NONE), false);

    giving.handoff().abort("upstream pools not ready");

    RecordingEvents.Ended ended = old.events().nextEnded();
    assertThat(ended.result()).isEqualTo(HandoffResult.FAILED);
    assertThat(ended.detail()).contains("aborted").contains("upstream pools not ready");
    assertThat(runDir.resolve("listen.sock")).doesNotExist();
    assertThat(old.source().drainBegun).isNotDone();
    assertAValidHandoffStillWorks(old);
  }

  @Test
  void oldTimesOutANewThatNeverSaysReady() throws Exception {
    RecordingEvents events = new RecordingEvents();
    Handoff oldHandoff =
        open(events, settings(STEP, Duration.ofMillis(500), IncomingStepObserver.NONE));
    assertThat(oldHandoff.arrive()).isInstanceOf(Arrival.ColdStart.class);
    TestSource source = new TestSource(1, ourListeners());
    oldHandoff.serve(source, Set.of());
    Generation old = new Generation(oldHandoff, events, source, new Arrival.ColdStart());

    successor(settings(STEP, READY, IncomingStepObserver.NONE), false); // never says Ready

    RecordingEvents.Ended ended = old.events().nextEnded();
    assertThat(ended.result()).isEqualTo(HandoffResult.FAILED);
    assertThat(ended.detail()).contains("no READY within PT0.5S");
    assertThat(runDir.resolve("listen.sock")).doesNotExist();
    assertThat(source.drainBegun).isNotDone();
    assertAValidHandoffStillWorks(old);
  }

  @Test
  void newTimesOutAnOldThatNeverAnswersHello() throws Exception {
    Files.createDirectories(
        runDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    // A raw junixsocket server that accepts and says nothing: an active process that hangs.
    AFUNIXServerSocket mute =
        AFUNIXServerSocket.bindOn(AFUNIXSocketAddress.of(runDir.resolve("reconfig.sock")));
    cleanup.push(mute);
    CompletableFuture<java.net.Socket> held = new CompletableFuture<>();
    Thread acceptor =
        new Thread(
            () -> {
              try {
                held.complete(mute.accept());
              } catch (Exception e) {
                held.completeExceptionally(e);
              }
            },
            "test-mute-acceptor");
    acceptor.setDaemon(true);
    acceptor.start();
    Handoff handoff =
        open(
            new RecordingEvents(),
            settings(Duration.ofMillis(300), READY, IncomingStepObserver.NONE));

    assertThatThrownBy(handoff::arrive)
        .isInstanceOf(HandoffException.class)
        .hasMessageContaining("no Welcome")
        .hasMessageContaining("within PT0.3S")
        .hasMessageContaining("reconfig.sock");
    held.get(5, TimeUnit.SECONDS).close();
  }

  // ---------------------------------------------------------------- after Ready

  @Test
  void newDyingAfterReadyRollsOldBackAndReconfigSockIsServedAgain() throws Exception {
    Generation old = coldStart(1);
    Generation second =
        successor(); // said Ready, got Draining, renamed its socket over reconfig.sock
    old.source().drainBegun.get(5, TimeUnit.SECONDS);

    second.handoff().close(); // its connection to the old process closes: EOF after Ready

    RecordingEvents.Ended ended = old.events().nextEnded();
    assertThat(ended.result()).isEqualTo(HandoffResult.ROLLED_BACK);
    // EOF, or a reset when the dying side had unread frames (a DrainProgress): both mean it is
    // gone.
    assertThat(old.source().rollBacks.poll(5, TimeUnit.SECONDS))
        .containsAnyOf(
            "closed reconfig.sock while this process drained",
            "connection to the successor failed while draining");
    assertThat(old.handoff().successorTookOver()).isNotDone();
    // reconfig.sock is the old process's again: a new successor is welcomed by generation 1.
    Generation third = successor();
    assertThat(((Arrival.Takeover) third.arrival()).generation()).isEqualTo(2);
  }

  @Test
  void newDyingRightAfterSayingReadyRollsOldBack() throws Exception {
    Generation old = coldStart(1);
    RecordingEvents events = new RecordingEvents();
    Handoff dying =
        open(
            events,
            settings(
                STEP,
                READY,
                step -> {
                  if (step == IncomingStep.READY_SENT) {
                    throw new IllegalStateException("simulated crash right after Ready");
                  }
                }));
    Arrival.Takeover takeover = (Arrival.Takeover) dying.arrive();
    takeover.listeners().forEach(l -> cleanup.push(() -> Fds.closeQuietly(l.fd())));
    assertThatThrownBy(() -> dying.serve(new TestSource(2, List.of()), Set.of()))
        .hasMessageContaining("simulated crash");
    dying.close();

    assertThat(old.events().nextEnded().result()).isEqualTo(HandoffResult.ROLLED_BACK);
    assertThat(old.source().rollBacks).hasSize(1);
    assertAValidHandoffStillWorks(old);
  }

  @Test
  void aHeldSuccessorIsAbortedWhenTheHoldTimesOutAndTheOldProcessNeverStopped() throws Exception {
    RecordingEvents oldEvents = new RecordingEvents();
    Handoff oldHandoff =
        open(
            oldEvents,
            new HandoffSettings(
                runDir,
                STEP,
                READY,
                "test-1.0",
                IncomingStepObserver.NONE,
                new HandoffSettings.Hold(false, Duration.ofMillis(300))));
    assertThat(oldHandoff.arrive()).isInstanceOf(Arrival.ColdStart.class);
    TestSource oldSource = new TestSource(1, ourListeners());
    oldHandoff.serve(oldSource, Set.of());

    Handoff held =
        open(
            new RecordingEvents(),
            new HandoffSettings(
                runDir,
                STEP,
                READY,
                "test-1.0",
                IncomingStepObserver.NONE,
                new HandoffSettings.Hold(true, Duration.ofHours(1))));
    Arrival.Takeover takeover = (Arrival.Takeover) held.arrive();
    takeover.listeners().forEach(l -> cleanup.push(() -> Fds.closeQuietly(l.fd())));

    assertThatThrownBy(() -> held.serve(new TestSource(2, List.of()), Set.of()))
        .isInstanceOf(HandoffAbortedException.class)
        .hasMessageContaining("no commit within the hold timeout");
    RecordingEvents.Ended ended = oldEvents.nextEnded();
    assertThat(ended.result()).isEqualTo(HandoffResult.ABORTED);
    assertThat(oldSource.drainBegun).as("the old process never stopped accepting").isNotDone();
    held.close();

    Generation next = successor();
    assertThat(((Arrival.Takeover) next.arrival()).generation())
        .as("the old process hands over as before")
        .isEqualTo(2);
  }

  @Test
  void aHeldSuccessorTakesOverOnCommit() throws Exception {
    Generation old = coldStart(1);
    Handoff held =
        open(
            new RecordingEvents(),
            new HandoffSettings(
                runDir,
                STEP,
                READY,
                "test-1.0",
                IncomingStepObserver.NONE,
                new HandoffSettings.Hold(true, Duration.ofHours(1))));
    Arrival.Takeover takeover = (Arrival.Takeover) held.arrive();
    takeover.listeners().forEach(l -> cleanup.push(() -> Fds.closeQuietly(l.fd())));
    CompletableFuture<Void> serving =
        CompletableFuture.runAsync(
            () -> {
              try {
                held.serve(new TestSource(2, List.of()), Set.of("web"));
              } catch (HandoffException e) {
                throw new CompletionException(e);
              }
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> old.events().phases.contains("outgoing_held"));
    assertThat(old.source().drainBegun).as("held: still accepting").isNotDone();
    assertThat(serving).as("held: the successor's serve() waits for the commit").isNotDone();

    assertThat(old.handoff().commitHeldSuccessor("a test commits")).isTrue();

    old.source().drainBegun.get(5, TimeUnit.SECONDS);
    serving.get(5, TimeUnit.SECONDS);
    assertThat(old.handoff().commitHeldSuccessor("again")).as("nothing held any more").isFalse();
    old.source().finishDrain(0, Duration.ofMillis(5));
    assertThat(old.events().nextEnded().result()).isEqualTo(HandoffResult.SUCCESS);
  }

  @Test
  void drainProgressReachesSuccessorAndDrainFinishedCompletesSuccessorTookOver() throws Exception {
    Generation old = coldStart(1);
    old.source().progress = new DrainProgress(3, 1);

    Generation second = successor();

    assertThat(second.events().progress.poll(5, TimeUnit.SECONDS))
        .isEqualTo(new DrainProgress(3, 1));
    assertThat(second.handoff().predecessorProgress()).contains(new DrainProgress(3, 1));
    assertThat(old.handoff().successorTookOver()).isNotDone();

    old.source().finishDrain(2, Duration.ofMillis(1500));

    DrainOutcome outcome = old.handoff().successorTookOver().get(5, TimeUnit.SECONDS);
    assertThat(outcome).isEqualTo(new DrainOutcome(2, Duration.ofMillis(1500)));
    assertThat(old.events().nextEnded().result()).isEqualTo(HandoffResult.SUCCESS);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> second.handoff().predecessorProgress().isEmpty());
    assertThat(second.events().phases).contains("incoming_predecessor_drained");
  }

  @Test
  void reconfigSockPointsAtNewProcessAfterHandoff() throws Exception {
    Generation first = coldStart(1);
    // maxDraining 1: no chained drain (ChainedHandoffTest covers those), so a refusal shows who
    // answers.
    Generation second =
        successor(
            new HandoffSettings(
                runDir,
                STEP,
                READY,
                "test-1.0",
                IncomingStepObserver.NONE,
                HandoffSettings.Hold.NONE,
                1),
            true);
    first.source().drainBegun.get(5, TimeUnit.SECONDS);

    Handoff early = open(new RecordingEvents(), settings(STEP, READY, IncomingStepObserver.NONE));
    assertThatThrownBy(early::arrive)
        .as(
            "the second generation serves reconfig.sock and, with maxDraining 1, refuses while the"
                + " first still drains")
        .isInstanceOfSatisfying(
            HandoffRefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(RefusalReason.PREDECESSOR_DRAINING));
    assertThat(second.events().nextEnded().result()).isEqualTo(HandoffResult.REFUSED);
    assertThat(first.events().ended).as("the first generation never saw that peer").isEmpty();

    first.source().finishDrain(0, Duration.ofMillis(5));
    first.handoff().successorTookOver().get(5, TimeUnit.SECONDS);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> second.handoff().predecessorProgress().isEmpty());

    Generation third = successor();
    assertThat(((Arrival.Takeover) third.arrival()).generation())
        .as("welcomed by generation 2")
        .isEqualTo(3);
    second.source().drainBegun.get(5, TimeUnit.SECONDS);
  }

  @Test
  void closingTheOldProcessAfterHandoffLeavesTheSuccessorsSocketInPlace() throws Exception {
    Generation first = coldStart(1);
    successor();
    first.source().finishDrain(0, Duration.ZERO);
    first.handoff().successorTookOver().get(5, TimeUnit.SECONDS);

    first.handoff().close();

    // junixsocket would delete reconfig.sock on close (delete-on-close); it now names the
    // successor's socket.
    assertThat(runDir.resolve("reconfig.sock")).exists();
    Generation third = successor();
    assertThat(((Arrival.Takeover) third.arrival()).generation()).isEqualTo(3);
  }
}
