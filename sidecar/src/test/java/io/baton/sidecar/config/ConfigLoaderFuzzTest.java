package io.baton.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Any text as a config file: {@link ConfigLoader#parse} returns a config or throws {@link
 * ConfigException} naming the source, never anything else (a YAML bomb, a deep nesting, a number
 * that does not fit, a wrong type in any place).
 *
 * <p>Input: the file's bytes (UTF-8). Seeds: {@code ConfigLoaderFuzzTestInputs/}, from
 * ConfigLoaderTest and deploy/examples; {@code bench/fuzz.sh config} fuzzes it.
 */
class ConfigLoaderFuzzTest {

  private static final String SOURCE = "fuzz.yaml";

  @FuzzTest(maxDuration = "10m")
  void anyTextIsAConfigOrAConfigExceptionNamingTheSource(byte[] input) {
    String yaml = new String(input, StandardCharsets.UTF_8);
    if (namesASpecialFile(yaml)) {
      // Certificate and key paths are read as files: a config naming /dev/zero would make the
      // loader read without end. The operator owns the config file; this fuzzes its parser.
      return;
    }
    try {
      BatonConfig config = ConfigLoader.parse(yaml, SOURCE);
      assertThat(config).isNotNull();
      assertThat(config.listeners()).isNotNull();
    } catch (ConfigException e) {
      assertThat(e.getMessage()).as("names the file").startsWith("config " + SOURCE + ":");
    } catch (RuntimeException e) {
      fail("a config that is not a ConfigException: " + e, e);
    }
  }

  private static boolean namesASpecialFile(String yaml) {
    return yaml.contains("/dev") || yaml.contains("/proc") || yaml.contains("/sys");
  }
}
