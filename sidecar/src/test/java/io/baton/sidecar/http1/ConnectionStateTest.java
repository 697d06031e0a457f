package io.baton.sidecar.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ConnectionStateTest {

  @Test
  void aKeepAliveExchangeOnANewConnectionReturnsToIdle() {
    ConnectionState state = ConnectionState.IDLE;
    state = state.moveTo(ConnectionState.CONNECTING);
    state = state.moveTo(ConnectionState.STREAMING_REQUEST);
    state = state.moveTo(ConnectionState.AWAITING_RESPONSE);
    state = state.moveTo(ConnectionState.STREAMING_RESPONSE);
    assertThat(state.moveTo(ConnectionState.IDLE)).isEqualTo(ConnectionState.IDLE);
  }

  @Test
  void aPooledConnectionSkipsConnecting() {
    assertThat(ConnectionState.IDLE.next())
        .contains(ConnectionState.STREAMING_REQUEST, ConnectionState.AWAITING_RESPONSE);
  }

  @Test
  void anUnreachableMemberIsFollowedByConnectingToTheNext() {
    assertThat(ConnectionState.CONNECTING.moveTo(ConnectionState.CONNECTING))
        .isEqualTo(ConnectionState.CONNECTING);
  }

  @Test
  void aResponseThatEndsBeforeTheRequestClosesTheConnection() {
    assertThat(ConnectionState.STREAMING_REQUEST.next())
        .contains(ConnectionState.CLOSING)
        .doesNotContain(ConnectionState.IDLE);
  }

  @Test
  void onlyAnIdleConnectionMovesAndAKeptOneIsIdleAgain() {
    for (ConnectionState state : ConnectionState.values()) {
      assertThat(state.next().contains(ConnectionState.MOVING))
          .as("%s -> MOVING", state)
          .isEqualTo(state == ConnectionState.IDLE);
    }
    assertThat(ConnectionState.MOVING.next()).containsExactly(ConnectionState.IDLE);
  }

  @Test
  void closingIsFinal() {
    assertThat(ConnectionState.CLOSING.next()).isEmpty();
  }

  @Test
  void illegalTransitionThrowsNamingBothStates() {
    assertThatThrownBy(() -> ConnectionState.AWAITING_RESPONSE.moveTo(ConnectionState.IDLE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("AWAITING_RESPONSE -> IDLE")
        .hasMessageContaining("expected one of [STREAMING_RESPONSE]");
  }

  @Test
  void theTableCannotBeChanged() {
    assertThatThrownBy(() -> ConnectionState.IDLE.next().add(ConnectionState.CLOSING))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
