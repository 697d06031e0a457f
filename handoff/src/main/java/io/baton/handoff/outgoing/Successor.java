package io.baton.handoff.outgoing;

import io.baton.handoff.peer.ProcessIdentity;

/**
 * The process a session welcomed, as it described itself in Hello.
 *
 * @param generation this process's generation plus one
 * @param holdRequested it asked to be held after Ready (Hello.hold)
 */
record Successor(ProcessIdentity identity, long generation, boolean holdRequested) {}
