package io.baton.sidecar.discovery;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.upstream.Member;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The members of one discovered cluster by etcd key, and the keys that were rejected. Keys are kept
 * in order so that every generation balances over the same sequence. Not thread-safe: one discovery
 * thread owns it.
 */
final class MemberTable {

  /** What an update did, for the log line. */
  record Change(int added, int removed, int changed, int rejected) {
    boolean isEmpty() {
      return added == 0 && removed == 0 && changed == 0;
    }

    @Override
    public String toString() {
      return "+"
          + added
          + " -"
          + removed
          + " ~"
          + changed
          + (rejected > 0 ? ", " + rejected + " rejected" : "");
    }
  }

  private final TreeMap<String, Member> members = new TreeMap<>();
  private final Map<String, String> rejected = new TreeMap<>();

  /** Replaces everything (a fresh read of the prefix). */
  Change replaceAll(List<ParsedMember> parsed) {
    Map<String, Member> before = new LinkedHashMap<>(members);
    members.clear();
    rejected.clear();
    for (ParsedMember p : parsed) {
      record(p);
    }
    int added = 0;
    int changed = 0;
    for (var e : members.entrySet()) {
      Member old = before.remove(e.getKey());
      if (old == null) {
        added++;
      } else if (!old.equals(e.getValue())) {
        changed++;
      }
    }
    return new Change(added, before.size(), changed, rejected.size());
  }

  /** One key was written. */
  Change put(ParsedMember parsed) {
    Member old = members.remove(parsed.key());
    rejected.remove(parsed.key());
    record(parsed);
    Member now = members.get(parsed.key());
    int rejectedNow = parsed instanceof ParsedMember.Rejected ? 1 : 0;
    if (old == null) {
      return new Change(now == null ? 0 : 1, 0, 0, rejectedNow);
    }
    if (now == null) {
      return new Change(0, 1, 0, rejectedNow);
    }
    return new Change(0, 0, Objects.equals(old, now) ? 0 : 1, 0);
  }

  /** One key was deleted. */
  Change remove(String key) {
    rejected.remove(key);
    return new Change(0, members.remove(key) == null ? 0 : 1, 0, 0);
  }

  private void record(ParsedMember p) {
    if (p instanceof ParsedMember.Accepted a) {
      members.put(a.key(), a.member());
    } else if (p instanceof ParsedMember.Rejected r) {
      rejected.put(r.key(), r.reason());
    }
  }

  /**
   * The members in key order. Two keys naming one address make one member (the first key's): the
   * balancer, pools and health all go by address.
   */
  List<Member> members() {
    List<Member> result = new ArrayList<>(members.size());
    Set<HostPort> seen = new HashSet<>();
    for (Member m : members.values()) {
      if (seen.add(m.address())) {
        result.add(m);
      }
    }
    return result;
  }

  /** Member by key, in key order (for the dump and the handoff). */
  Map<String, Member> byKey() {
    return new LinkedHashMap<>(members);
  }

  /** Rejected keys and why. */
  Map<String, String> rejected() {
    return new LinkedHashMap<>(rejected);
  }
}
