package io.baton.sidecar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TestKitCommandsTest {

  @Test
  void anInstalledJarLooksForTheTestKitBesideItself() {
    assertThat(TestKitCommands.candidates(null, Optional.of(Path.of("/opt/baton/baton.jar"))))
        .containsExactly(Path.of("/opt/baton/baton-testkit.jar"));
  }

  @Test
  void aJarBuiltInACheckoutAlsoLooksAtThatCheckoutsTestKitBuild() {
    assertThat(
            TestKitCommands.candidates(
                null, Optional.of(Path.of("/src/baton/sidecar/target/baton.jar"))))
        .containsExactly(
            Path.of("/src/baton/sidecar/target/baton-testkit.jar"),
            Path.of("/src/baton/testkit-cli/target/baton-testkit.jar"));
  }

  @Test
  void theEnvironmentVariableComesFirstAndABlankOneIsIgnored() {
    assertThat(
            TestKitCommands.candidates(
                "/tmp/kit.jar", Optional.of(Path.of("/opt/baton/baton.jar"))))
        .containsExactly(Path.of("/tmp/kit.jar"), Path.of("/opt/baton/baton-testkit.jar"));
    assertThat(TestKitCommands.candidates(" ", Optional.empty())).isEmpty();
  }

  @Test
  void classesOutsideAJarLookOnlyWhereTheEnvironmentSays() {
    assertThat(
            TestKitCommands.candidates(
                null, Optional.of(Path.of("/src/baton/sidecar/target/classes"))))
        .isEmpty();
  }
}
