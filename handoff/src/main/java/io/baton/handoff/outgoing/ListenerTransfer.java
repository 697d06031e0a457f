package io.baton.handoff.outgoing;

import io.baton.handoff.HandoffSource;
import io.baton.handoff.PassableListener;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.os.UnixConnection;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.CounterValues;
import io.baton.handoff.wire.PeerClosedException;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.handoff.wire.ReceivedFrame;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.ListenerDescriptor;
import io.baton.proto.handoff.v1.Listeners;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Passes this process's listeners to the successor on its {@code listen.sock} (while the session is
 * {@link SessionState#SENDING_LISTENERS}): connects, checks that the successor serves it, sends one
 * Listeners frame with every listener fd, the counters and the carried state, and waits for
 * ListenersReceived to count them. The fds stay this process's: the kernel gives the successor
 * copies, and nothing here changes how this process serves.
 */
final class ListenerTransfer {

  private final Path listenSocket;
  private final Duration stepTimeout;
  private final PeerCheck peers;
  private final HandoffSource source;

  ListenerTransfer(Path listenSocket, Duration stepTimeout, PeerCheck peers, HandoffSource source) {
    this.listenSocket = listenSocket;
    this.stepTimeout = stepTimeout;
    this.peers = peers;
    this.source = source;
  }

  /**
   * Empty once the successor counted every listener; else why the handoff fails.
   *
   * @throws OsException if listen.sock cannot be reached or a send fails
   * @throws ControlProtocolException if the successor's answer is not a frame
   */
  Optional<String> passTo(ProcessIdentity successor) throws OsException, ControlProtocolException {
    try (ControlChannel listen =
        new ControlChannel(UnixConnection.connect(listenSocket, stepTimeout))) {
      PeerCredentials listenPeer = listen.peer();
      Optional<String> problem =
          peers.problem("listen.sock is served by a process with", listenPeer, successor);
      if (problem.isPresent()) {
        return Optional.of(problem.get() + "; not sending listeners");
      }
      int[] fds = send(listen);
      return awaitCount(listen, fds.length);
    }
  }

  private int[] send(ControlChannel listen) throws OsException, ControlProtocolException {
    List<PassableListener> listeners = source.listeners();
    Listeners.Builder message =
        Listeners.newBuilder()
            .setGeneration(source.generation())
            .addAllCounters(CounterValues.toWire(source.counters()))
            .addAllCarriedState(source.carriedState());
    int[] fds = new int[listeners.size()];
    for (int i = 0; i < listeners.size(); i++) {
      PassableListener l = listeners.get(i);
      message.addListeners(
          ListenerDescriptor.newBuilder()
              .setName(l.name())
              .setAddress(l.address())
              .setProtocol(l.protocol()));
      fds[i] = l.fd();
    }
    listen.send(ProtocolVersion.envelope().setListeners(message).build(), fds);
    return fds;
  }

  private Optional<String> awaitCount(ControlChannel listen, int sent)
      throws OsException, ControlProtocolException {
    ReceivedFrame reply;
    try {
      reply = listen.receive(stepTimeout);
    } catch (PeerClosedException e) {
      return Optional.of(
          "successor closed listen.sock before ListenersReceived (it exited or died)");
    } catch (OsException e) {
      return Optional.of(
          e.isTimeout() ? "no ListenersReceived within " + stepTimeout : e.getMessage());
    }
    reply.closeFds();
    if (reply.bodyCase() != Envelope.BodyCase.LISTENERS_RECEIVED) {
      return Optional.of(
          "on listen.sock: message " + reply.bodyCase() + " (expected: LISTENERS_RECEIVED)");
    }
    int count = reply.envelope().getListenersReceived().getCount();
    if (count != sent) {
      return Optional.of("ListenersReceived.count: " + count + " (expected: " + sent + ")");
    }
    return Optional.empty();
  }
}
