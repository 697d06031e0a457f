package io.baton.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConfigFieldsTest {

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  @Test
  void absentValuesTakeTheirFallbackWithoutAProblem() {
    ConfigFields fields = new ConfigFields();

    assertThat(fields.duration("drain.timeout", null, Duration.ofSeconds(30)))
        .isEqualTo(Duration.ofSeconds(30));
    assertThat(fields.bool("drain.migrate", JSON.nullNode(), true)).isTrue();
    assertThat(fields.positiveInt("handoff.maxDraining", null, 4)).isEqualTo(4);
    assertThat(fields.hostPort("admin.address", null, "127.0.0.1:9901"))
        .isEqualTo(HostPort.parse("127.0.0.1:9901"));
    assertThat(fields.problems()).isEmpty();
  }

  @Test
  void everyBadValueIsReportedWithItsKeyValueAndWhatWasExpected() {
    ConfigFields fields = new ConfigFields();

    assertThat(fields.duration("drain.timeout", JSON.textNode("30"), Duration.ofSeconds(30)))
        .isEqualTo(Duration.ofSeconds(30));
    assertThat(fields.nonNegativeInt("handoff.warmUpRequests", JSON.numberNode(-1), 200))
        .isEqualTo(200);
    assertThat(fields.positiveInt("handoff.maxDraining", JSON.numberNode(1.5), 4)).isEqualTo(4);
    assertThat(fields.bool("drain.migrate", JSON.textNode("yes"), true)).isTrue();
    assertThat(fields.requiredName("listeners[0].name", null)).isNull();

    assertThat(fields.problems())
        .containsExactly(
            "drain.timeout: \"30\" (expected a duration such as 30s, 500ms, 2m)",
            "handoff.warmUpRequests: -1 (expected a whole number >= 0)",
            "handoff.maxDraining: 1.5 (expected a whole number >= 1)",
            "drain.migrate: \"yes\" (expected true or false)",
            "listeners[0].name: missing (expected a name such as web)");
  }

  @Test
  void unknownKeysAreListedWithTheKeysAllowedThere() {
    ConfigFields fields = new ConfigFields();
    JsonNode drain = JSON.objectNode().put("timeout", "5s").put("timout", "5s");

    fields.onlyKeys("drain.", drain, Set.of("timeout", "migrate"));

    assertThat(fields.problems())
        .containsExactly("drain.timout: unknown key (expected one of: migrate, timeout)");
  }

  @Test
  void aSectionThatIsNotAMappingIsAProblemAndReadsAsEmpty() {
    ConfigFields fields = new ConfigFields();

    JsonNode section = fields.section("drain", JSON.textNode("fast"));

    assertThat(section.isObject()).isTrue();
    assertThat(section.size()).isZero();
    assertThat(fields.problems()).containsExactly("drain: \"fast\" (expected a mapping)");
  }
}
