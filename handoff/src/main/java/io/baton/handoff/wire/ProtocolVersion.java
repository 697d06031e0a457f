package io.baton.handoff.wire;

import io.baton.proto.handoff.v1.Envelope;

/**
 * The handoff protocol version this binary speaks, printable without a peer ({@code baton version
 * --protocol}). Two processes hand off only if their versions are equal.
 *
 * <p>Bump it only when an older reader would misbehave on what a newer writer sends; fields that an
 * older reader may ignore (proto3 skips unknown fields) need no bump. Each added field carries its
 * roll-forward/roll-back note in {@code handoff.proto}.
 */
public final class ProtocolVersion {

  /** Version 1: Hello/Welcome/Refusal, ListenSocketReady, Listeners, Ready/Abort, Draining, DrainProgress, DrainFinished. */
  public static final int CURRENT = 1;

  private ProtocolVersion() {}

  public static boolean compatible(int peerVersion) {
    return peerVersion == CURRENT;
  }

  /** A builder with {@code protocol_version} already set: every envelope carries it. */
  public static Envelope.Builder envelope() {
    return Envelope.newBuilder().setProtocolVersion(CURRENT);
  }
}
