package io.baton.handoff.incoming;

import com.google.protobuf.Any;
import io.baton.handoff.CarriedCounter;
import io.baton.handoff.InheritedListener;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.CounterValues;
import io.baton.handoff.wire.ReceivedFrame;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.ListenerDescriptor;
import io.baton.proto.handoff.v1.Listeners;
import io.baton.proto.handoff.v1.RefusalReason;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the predecessor passed on listen.sock, in the library's own types: each listener with the fd
 * that came for it, its counters and its carried state.
 */
record PassedListeners(
    List<InheritedListener> listeners, List<CarriedCounter> counters, List<Any> carriedState) {

  PassedListeners {
    listeners = List.copyOf(listeners);
    counters = List.copyOf(counters);
    carriedState = List.copyOf(carriedState);
  }

  /**
   * Reads the Listeners frame received on {@code path}. Any other frame, or fds that do not pair
   * one to one with the descriptors, is refused with every received fd closed: a listener whose fd
   * cannot be told apart from another's must not be served.
   */
  static PassedListeners from(ReceivedFrame frame, Path path) throws ControlProtocolException {
    int[] fds = frame.fds();
    if (frame.bodyCase() != Envelope.BodyCase.LISTENERS) {
      frame.closeFds();
      throw new ControlProtocolException(
          RefusalReason.UNEXPECTED_MESSAGE,
          "on " + path + ": message " + frame.bodyCase() + " (expected: LISTENERS)");
    }
    Listeners listeners = frame.envelope().getListeners();
    if (listeners.getListenersCount() != fds.length) {
      frame.closeFds();
      throw new ControlProtocolException(
          RefusalReason.MALFORMED_MESSAGE,
          "on "
              + path
              + ": fds received: "
              + fds.length
              + " (expected: one per listener, "
              + listeners.getListenersCount()
              + ")");
    }
    List<InheritedListener> inherited = new ArrayList<>(fds.length);
    for (int i = 0; i < fds.length; i++) {
      ListenerDescriptor d = listeners.getListeners(i);
      inherited.add(new InheritedListener(d.getName(), d.getAddress(), d.getProtocol(), fds[i]));
    }
    return new PassedListeners(
        inherited,
        CounterValues.fromWire(listeners.getCountersList()),
        listeners.getCarriedStateList());
  }
}
