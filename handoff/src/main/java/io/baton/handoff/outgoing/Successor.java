package io.baton.handoff.outgoing;

import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.wire.ProtocolVersion;

/**
 * The process a session welcomed, as it described itself in Hello.
 *
 * @param generation this process's generation plus one
 * @param holdRequested it asked to be held after Ready (Hello.hold)
 * @param revision its protocol revision (Hello.protocol_revision; unset means 1)
 */
record Successor(ProcessIdentity identity, long generation, boolean holdRequested, int revision) {

  /** It confirms each live connection it owns (ConnectionOwned), so copies are kept until then. */
  boolean confirmsOwnership() {
    return revision >= ProtocolVersion.CONNECTION_OWNED_REVISION;
  }
}
