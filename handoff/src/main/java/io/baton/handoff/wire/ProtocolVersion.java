package io.baton.handoff.wire;

/** PLACEHOLDER until the handoff library lands. */
public final class ProtocolVersion {
  public static final int CURRENT = 1;

  private ProtocolVersion() {}
}
