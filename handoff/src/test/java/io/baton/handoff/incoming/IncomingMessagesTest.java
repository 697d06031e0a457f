package io.baton.handoff.incoming;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.HandedOn;
import io.baton.proto.handoff.v1.Hello;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The frames the incoming side sends, and what a reader of an older revision is not sent. */
@Timeout(10)
class IncomingMessagesTest {

  @Test
  void helloSaysWhoThisProcessIsWhetherItWantsToBeHeldAndItsRevision() {
    Envelope hello =
        IncomingMessages.hello(new ProcessIdentity(42, 4026531836L, "abcdefgh"), "1.4.0", true);
    assertThat(hello.getProtocolVersion()).isEqualTo(ProtocolVersion.CURRENT);
    assertThat(hello.getHello())
        .isEqualTo(
            Hello.newBuilder()
                .setPid(42)
                .setPidNamespace(4026531836L)
                .setInstanceId("abcdefgh")
                .setBuildVersion("1.4.0")
                .setHold(true)
                .setProtocolRevision(ProtocolVersion.REVISION)
                .build());
  }

  @Test
  void everyFrameCarriesTheProtocolVersionAndItsOneCase() {
    List<Envelope> frames =
        List.of(
            IncomingMessages.listenSocketReady(
                Path.of("/run/baton/listen.sock"), Path.of("/run/baton/conn.sock")),
            IncomingMessages.listenersReceived(2),
            IncomingMessages.ready(Set.of("public")),
            IncomingMessages.abort("SIGTERM while held"),
            IncomingMessages.handedOn(HandedOn.Why.STOPPING, 0, "baton drain"));
    assertThat(frames).allSatisfy(f -> assertThat(f.getProtocolVersion()).isEqualTo(1));
    assertThat(frames)
        .extracting(Envelope::getBodyCase)
        .containsExactly(
            Envelope.BodyCase.LISTEN_SOCKET_READY,
            Envelope.BodyCase.LISTENERS_RECEIVED,
            Envelope.BodyCase.READY,
            Envelope.BodyCase.ABORT,
            Envelope.BodyCase.HANDED_ON);
    assertThat(frames.get(0).getListenSocketReady().getConnPath())
        .isEqualTo("/run/baton/conn.sock");
    assertThat(frames.get(2).getReady().getAdoptedListenersList()).containsExactly("public");
    assertThat(frames.get(4).getHandedOn().getWhy()).isEqualTo(HandedOn.Why.STOPPING);
  }

  @Test
  void handedOnIsToldOnlyToAPredecessorOfTheRevisionThatReadsIt() {
    assertThat(HandedOnNotice.understoodAt(1)).as("revision 1 ignores HandedOn").isFalse();
    assertThat(HandedOnNotice.understoodAt(ProtocolVersion.HANDED_ON_REVISION)).isTrue();
  }
}
