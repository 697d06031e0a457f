package io.baton.handoff.incoming;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import io.baton.handoff.CarriedCounter;
import io.baton.handoff.InheritedListener;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.handoff.wire.ReceivedFrame;
import io.baton.proto.handoff.v1.CounterValue;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.ListenerDescriptor;
import io.baton.proto.handoff.v1.Listeners;
import io.baton.proto.handoff.v1.Ready;
import io.baton.proto.handoff.v1.RefusalReason;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Listeners frame read into the library's types. The fd numbers are never opened nor closed
 * here (a frame that is refused carries none), so they need not be real.
 */
@Timeout(10)
class PassedListenersTest {

  private static final Path LISTEN = Path.of("/run/baton/listen.sock");

  private static ListenerDescriptor listener(String name, String address) {
    return ListenerDescriptor.newBuilder()
        .setName(name)
        .setAddress(address)
        .setProtocol("http1")
        .build();
  }

  @Test
  void eachListenerGetsTheFdAtItsPositionWithTheCountersAndCarriedState() throws Exception {
    Any carried = Any.pack(StringValue.of("upstream set 7"));
    Envelope envelope =
        ProtocolVersion.envelope()
            .setListeners(
                Listeners.newBuilder()
                    .addListeners(listener("public", "0.0.0.0:8080"))
                    .addListeners(listener("admin", "127.0.0.1:9901"))
                    .addCounters(
                        CounterValue.newBuilder()
                            .setName("requests")
                            .putTags("listener", "public")
                            .setValue(12))
                    .addCounters(CounterValue.newBuilder().setName("bad").setValue(-1))
                    .addCarriedState(carried))
            .build();

    PassedListeners passed =
        PassedListeners.from(new ReceivedFrame(envelope, new int[] {7, 9}), LISTEN);

    assertThat(passed.listeners())
        .containsExactly(
            new InheritedListener("public", "0.0.0.0:8080", "http1", 7),
            new InheritedListener("admin", "127.0.0.1:9901", "http1", 9));
    assertThat(passed.counters())
        .as("a negative counter is dropped, as CounterValues does everywhere")
        .containsExactly(new CarriedCounter("requests", Map.of("listener", "public"), 12, ""));
    assertThat(passed.carriedState()).containsExactly(carried);
  }

  @Test
  void fdsThatDoNotPairOneToOneWithTheListenersAreRefused() {
    Envelope envelope =
        ProtocolVersion.envelope()
            .setListeners(Listeners.newBuilder().addListeners(listener("public", ":8080")))
            .build();
    assertThatThrownBy(() -> PassedListeners.from(new ReceivedFrame(envelope, new int[0]), LISTEN))
        .isInstanceOfSatisfying(
            ControlProtocolException.class,
            e -> assertThat(e.reason()).isEqualTo(RefusalReason.MALFORMED_MESSAGE))
        .hasMessage("on /run/baton/listen.sock: fds received: 0 (expected: one per listener, 1)");
  }

  @Test
  void anyOtherMessageOnListenSockIsUnexpected() {
    Envelope ready = ProtocolVersion.envelope().setReady(Ready.getDefaultInstance()).build();
    assertThatThrownBy(() -> PassedListeners.from(new ReceivedFrame(ready, new int[0]), LISTEN))
        .isInstanceOfSatisfying(
            ControlProtocolException.class,
            e -> assertThat(e.reason()).isEqualTo(RefusalReason.UNEXPECTED_MESSAGE))
        .hasMessage("on /run/baton/listen.sock: message READY (expected: LISTENERS)");
  }
}
