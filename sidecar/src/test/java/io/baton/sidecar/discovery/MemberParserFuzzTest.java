package io.baton.sidecar.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.sidecar.upstream.Member;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/**
 * Untrusted bytes in an etcd key and value (anyone who can write the prefix writes them). The
 * parser answers every key with a member or a reason, never an exception; a member it accepts has a
 * usable address and parameters that mean exactly what the value says.
 *
 * <p>Input layout: the key (after the cluster's prefix) up to the first newline, the value after
 * it. Seeds: {@code MemberParserFuzzTestInputs/}; {@code bench/fuzz.sh etcd-member} fuzzes it.
 */
class MemberParserFuzzTest {

  private static final String PREFIX = "/baton/clusters/backend/";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final MemberParser parser = new MemberParser(PREFIX);

  @FuzzTest(maxDuration = "10m")
  void everyKeyIsAMemberOrARejectionWithAReason(byte[] input) throws Exception {
    String text = new String(input, StandardCharsets.UTF_8);
    int newline = text.indexOf('\n');
    String key = PREFIX + (newline < 0 ? text : text.substring(0, newline));
    String value = newline < 0 ? null : text.substring(newline + 1);

    ParsedMember parsed = parser.parse(key, value);

    assertThat(parsed.key()).isEqualTo(key);
    if (parsed instanceof ParsedMember.Rejected rejected) {
      assertThat(rejected.reason()).as("a rejection says why").isNotBlank();
      return;
    }
    Member member = ((ParsedMember.Accepted) parsed).member();
    assertThat(member.address().port()).isBetween(1, 65535);
    assertThat(member.address().host()).isNotBlank();
    assertThat(member.failTimeout().isNegative())
        .as("fail timeout %s", member.failTimeout())
        .isFalse();
    String trimmed = value == null ? "" : value.trim();
    if (trimmed.startsWith("{")) {
      JsonNode node = JSON.readTree(trimmed);
      assertDownMeansWhatTheValueSays(node.get("down"), member.down());
      assertIntegerMeansWhatTheValueSays(node, "weight", null, member.weight());
      assertIntegerMeansWhatTheValueSays(node, "maxFails", "max_fails", member.maxFails());
    }
  }

  private static void assertDownMeansWhatTheValueSays(JsonNode down, boolean parsed) {
    if (down == null) {
      assertThat(parsed).isFalse();
    } else if (down.isBoolean()) {
      assertThat(parsed).isEqualTo(down.booleanValue());
    } else {
      assertThat(
              down.isIntegralNumber()
                  && down.bigIntegerValue().equals(BigInteger.valueOf(parsed ? 1 : 0)))
          .as("down: %s accepted as %s (expected 0 or 1)", down, parsed)
          .isTrue();
    }
  }

  private static void assertIntegerMeansWhatTheValueSays(
      JsonNode node, String name, String upsyncName, int parsed) {
    JsonNode v = node.has(name) ? node.get(name) : upsyncName == null ? null : node.get(upsyncName);
    if (v != null) {
      assertThat(v.bigIntegerValue()).as("%s: %s", name, v).isEqualTo(BigInteger.valueOf(parsed));
    }
  }
}
