package io.baton.sidecar.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.upstream.Member;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MemberParserTest {

  private static final String PREFIX = "/baton/clusters/backend/";
  private final MemberParser parser = new MemberParser(PREFIX);

  private Member accepted(String key, String value) {
    ParsedMember p = parser.parse(PREFIX + key, value);
    assertThat(p).as("%s = %s", key, value).isInstanceOf(ParsedMember.Accepted.class);
    return ((ParsedMember.Accepted) p).member();
  }

  private String rejected(String key, String value) {
    ParsedMember p = parser.parse(PREFIX + key, value);
    assertThat(p).as("%s = %s", key, value).isInstanceOf(ParsedMember.Rejected.class);
    return ((ParsedMember.Rejected) p).reason();
  }

  @Test
  void addressInTheKeyWithAnEmptyValueTakesNginxDefaults() {
    assertThat(accepted("10.0.0.7:8080", "")).isEqualTo(Member.of(new HostPort("10.0.0.7", 8080)));
  }

  @Test
  void upsyncParametersAreRead() {
    assertThat(
            accepted(
                "10.0.0.7:8080", "{\"weight\":3,\"max_fails\":2,\"fail_timeout\":7,\"down\":1}"))
        .isEqualTo(new Member(new HostPort("10.0.0.7", 8080), 3, 2, Duration.ofSeconds(7), true));
  }

  @Test
  void batonParameterNamesAndDurationsAreReadToo() {
    assertThat(
            accepted(
                "m1",
                "{\"address\":\"[::1]:9000\",\"weight\":2,\"maxFails\":0,\"failTimeout\":\"1500ms\",\"down\":false}"))
        .isEqualTo(new Member(new HostPort("::1", 9000), 2, 0, Duration.ofMillis(1500), false));
  }

  @Test
  void addressInAPlainValue() {
    assertThat(accepted("m2", "127.0.0.1:8081"))
        .isEqualTo(Member.of(new HostPort("127.0.0.1", 8081)));
  }

  @Test
  void keyThatIsNotHostPortWithoutAnAddressIsRejectedWithTheReason() {
    assertThat(rejected("not-an-address", ""))
        .isEqualTo(
            "\"not-an-address\" is not host:port and the value is empty (expected host:port in the"
                + " key or the value)");
    assertThat(rejected("not-an-address", "{\"weight\":2}"))
        .isEqualTo("\"not-an-address\" is not host:port and the value has no address");
  }

  @Test
  void invalidJsonIsRejectedWithTheParsersMessage() {
    assertThat(rejected("10.0.0.7:8080", "{\"weight\":")).startsWith("value is not valid JSON (");
  }

  @Test
  void badParametersAreRejectedNamingTheFieldAndWhatWasExpected() {
    assertThat(rejected("10.0.0.7:8080", "{\"weight\":0}"))
        .isEqualTo("weight: 0 (expected a whole number of 1 or more)");
    assertThat(rejected("10.0.0.7:8080", "{\"max_fails\":\"x\"}"))
        .isEqualTo("max_fails: \"x\" (expected a whole number of 0 or more)");
    assertThat(rejected("10.0.0.7:8080", "{\"fail_timeout\":\"soon\"}"))
        .isEqualTo(
            "fail_timeout: \"soon\" (expected seconds such as 10, or a duration such as 10s)");
    assertThat(rejected("10.0.0.7:8080", "{\"down\":2}"))
        .isEqualTo("down: 2 (expected true/false or 1/0)");
    assertThat(rejected("10.0.0.7:8080", "{\"wieght\":2}")).startsWith("unknown field \"wieght\"");
    assertThat(rejected("10.0.0.7:8080", "[1,2]"))
        .isEqualTo("value \"[1,2]\" is neither host:port nor a JSON object");
  }

  @Test
  void keyAndValueNamingDifferentAddressesIsRejected() {
    assertThat(rejected("10.0.0.7:8080", "{\"address\":\"10.0.0.8:8080\"}"))
        .isEqualTo("the key names 10.0.0.7:8080 but the value's address is 10.0.0.8:8080");
    assertThat(rejected("10.0.0.7:8080", "10.0.0.8:8080"))
        .isEqualTo("the key names 10.0.0.7:8080 but the value is 10.0.0.8:8080");
  }

  @Test
  void portZeroIsNotAMember() {
    assertThat(rejected("10.0.0.7:0", "")).contains("is not host:port");
  }

  /** Found by MemberParserFuzzTest: the low 32 bits of 4294967297 are 1. */
  @Test
  void downBeyondAnIntIsRejectedNotReadAsItsLowBits() {
    assertThat(rejected("10.0.0.7:8080", "{\"down\":4294967297}"))
        .contains("down: 4294967297 (expected true/false or 1/0)");
  }
}
