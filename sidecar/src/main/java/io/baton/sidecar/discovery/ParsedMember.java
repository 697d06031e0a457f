package io.baton.sidecar.discovery;

import io.baton.sidecar.upstream.Member;

/** What one etcd key under a cluster's prefix says: a member, or why it is not one. */
public sealed interface ParsedMember {

  String key();

  record Accepted(String key, Member member) implements ParsedMember {}

  /** Skipped (logged and counted); the cluster's other members are unaffected. */
  record Rejected(String key, String reason) implements ParsedMember {}
}
