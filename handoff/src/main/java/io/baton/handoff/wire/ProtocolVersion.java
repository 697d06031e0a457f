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

  /**
   * Version 1: Hello/Welcome/Refusal, ListenSocketReady, Listeners, Ready/Abort, Draining,
   * DrainProgress, DrainFinished.
   */
  public static final int CURRENT = 1;

  /**
   * Additions within version 1 that an older peer must not be sent, announced in Hello and Welcome
   * ({@code protocol_revision}; unset means 1).
   *
   * <ul>
   *   <li>1: everything up to MovedConnection/MigrationFinished.
   *   <li>2: chained drains: HandedOn, DrainProgress.predecessors, Draining.predecessors. A
   *       successor hands over while this process drains only if this process announced 2.
   *   <li>3: ownership on conn.sock: the successor confirms each moved connection (ConnectionOwned)
   *       before it changes its state; the predecessor keeps its copy until then, and serves the
   *       unconfirmed ones again if the successor dies.
   * </ul>
   */
  public static final int REVISION = 3;

  /** The first revision whose readers understand HandedOn. */
  public static final int HANDED_ON_REVISION = 2;

  /** The first revision whose peers send and read ConnectionOwned on conn.sock. */
  public static final int CONNECTION_OWNED_REVISION = 3;

  /** A peer's announced revision: the field unset (an older binary) means 1. */
  public static int revisionOf(int announced) {
    return announced == 0 ? 1 : announced;
  }

  /** What {@code baton version --protocol} prints: MAJOR.REVISION. */
  public static String printable() {
    return CURRENT + "." + REVISION;
  }

  private ProtocolVersion() {}

  public static boolean compatible(int peerVersion) {
    return peerVersion == CURRENT;
  }

  /** A builder with {@code protocol_version} already set: every envelope carries it. */
  public static Envelope.Builder envelope() {
    return Envelope.newBuilder().setProtocolVersion(CURRENT);
  }
}
