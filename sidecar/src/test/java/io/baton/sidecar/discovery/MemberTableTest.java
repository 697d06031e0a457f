package io.baton.sidecar.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.upstream.Member;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemberTableTest {

  private static Member member(int port) {
    return Member.of(new HostPort("127.0.0.1", port));
  }

  private static ParsedMember ok(String key, Member m) {
    return new ParsedMember.Accepted(key, m);
  }

  @Test
  void replaceAllReportsWhatWasAddedRemovedAndChanged() {
    MemberTable table = new MemberTable();
    assertThat(
            table.replaceAll(
                List.of(
                    ok("a", member(1)), ok("b", member(2)), new ParsedMember.Rejected("x", "bad"))))
        .isEqualTo(new MemberTable.Change(2, 0, 0, 1));
    Member heavier = new Member(new HostPort("127.0.0.1", 2), 5, 1, Duration.ofSeconds(10), false);
    assertThat(table.replaceAll(List.of(ok("b", heavier), ok("c", member(3)))))
        .isEqualTo(new MemberTable.Change(1, 1, 1, 0));
    assertThat(table.members()).containsExactly(heavier, member(3));
    assertThat(table.rejected()).isEmpty();
  }

  @Test
  void membersAreInKeyOrderWhateverTheOrderOfArrival() {
    MemberTable table = new MemberTable();
    table.put(ok("c", member(3)));
    table.put(ok("a", member(1)));
    table.put(ok("b", member(2)));
    assertThat(table.members()).containsExactly(member(1), member(2), member(3));
  }

  @Test
  void aKeyRewrittenWithBadDataStopsBeingAMember() {
    MemberTable table = new MemberTable();
    table.put(ok("a", member(1)));
    assertThat(table.put(new ParsedMember.Rejected("a", "not host:port")))
        .isEqualTo(new MemberTable.Change(0, 1, 0, 1));
    assertThat(table.members()).isEmpty();
    assertThat(table.rejected()).containsEntry("a", "not host:port");
    assertThat(table.remove("a")).isEqualTo(new MemberTable.Change(0, 0, 0, 0));
    assertThat(table.rejected()).isEmpty();
  }

  @Test
  void twoKeysNamingOneAddressMakeOneMember() {
    MemberTable table = new MemberTable();
    table.put(ok("a", member(1)));
    table.put(ok("b", member(1)));
    assertThat(table.members()).containsExactly(member(1));
    table.remove("a");
    assertThat(table.members()).containsExactly(member(1));
  }
}
