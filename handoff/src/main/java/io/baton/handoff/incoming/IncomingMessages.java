package io.baton.handoff.incoming;

import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.Abort;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.HandedOn;
import io.baton.proto.handoff.v1.Hello;
import io.baton.proto.handoff.v1.ListenSocketReady;
import io.baton.proto.handoff.v1.ListenersReceived;
import io.baton.proto.handoff.v1.Ready;
import java.nio.file.Path;
import java.util.Set;

/**
 * The frames the incoming side sends (on reconfig.sock, and the acknowledgement on listen.sock),
 * built from the library's own types; the outgoing side's counterpart is {@code OutgoingMessages}.
 */
final class IncomingMessages {

  private IncomingMessages() {}

  static Envelope hello(ProcessIdentity self, String buildVersion, boolean holdRequested) {
    return ProtocolVersion.envelope()
        .setHello(
            Hello.newBuilder()
                .setPid((int) self.pid())
                .setPidNamespace(self.pidNamespace())
                .setInstanceId(self.instanceId())
                .setBuildVersion(buildVersion)
                .setHold(holdRequested)
                .setProtocolRevision(ProtocolVersion.REVISION))
        .build();
  }

  static Envelope listenSocketReady(Path listenPath, Path connPath) {
    return ProtocolVersion.envelope()
        .setListenSocketReady(
            ListenSocketReady.newBuilder()
                .setPath(listenPath.toString())
                .setConnPath(connPath.toString()))
        .build();
  }

  static Envelope listenersReceived(int count) {
    return ProtocolVersion.envelope()
        .setListenersReceived(ListenersReceived.newBuilder().setCount(count))
        .build();
  }

  static Envelope ready(Set<String> adoptedListeners) {
    return ProtocolVersion.envelope()
        .setReady(Ready.newBuilder().addAllAdoptedListeners(adoptedListeners))
        .build();
  }

  static Envelope abort(String reason) {
    return ProtocolVersion.envelope().setAbort(Abort.newBuilder().setReason(reason)).build();
  }

  static Envelope handedOn(HandedOn.Why why, long activeGeneration, String detail) {
    return ProtocolVersion.envelope()
        .setHandedOn(
            HandedOn.newBuilder()
                .setWhy(why)
                .setActiveGeneration(activeGeneration)
                .setDetail(detail))
        .build();
  }
}
