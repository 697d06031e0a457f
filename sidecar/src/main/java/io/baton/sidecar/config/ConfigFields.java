package io.baton.sidecar.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed reads of config values that never throw: a bad value is recorded as a problem naming the
 * key path, the value and what was expected, and the read returns a fallback, so one pass over the
 * file reports every problem instead of the first.
 */
final class ConfigFields {

  private final List<String> problems = new ArrayList<>();

  List<String> problems() {
    return List.copyOf(problems);
  }

  /** A mapping, or an empty one when absent, so its keys read as "not set". */
  JsonNode section(String key, JsonNode node) {
    if (node == null || node.isNull()) {
      return JsonNodeFactory.instance.objectNode();
    }
    if (!node.isObject()) {
      problem(key, node, "a mapping");
      return JsonNodeFactory.instance.objectNode();
    }
    return node;
  }

  void onlyKeys(String prefix, JsonNode node, Set<String> allowed) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!allowed.contains(key)) {
        problems.add(
            prefix
                + key
                + ": unknown key (expected one of: "
                + String.join(", ", new TreeSet<>(allowed))
                + ")");
      }
    }
  }

  String text(String key, JsonNode node, String fallback) {
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.isTextual()) {
      problem(key, node, "a string");
      return fallback;
    }
    return node.asText();
  }

  String requiredName(String key, JsonNode node) {
    if (node == null || node.isNull()) {
      missing(key, "a name such as web");
      return null;
    }
    if (!node.isTextual() || !node.asText().matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
      problem(key, node, "a name of letters, digits, '.', '_' or '-'");
      return null;
    }
    return node.asText();
  }

  boolean bool(String key, JsonNode node, boolean fallback) {
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.isBoolean()) {
      problem(key, node, "true or false");
      return fallback;
    }
    return node.asBoolean();
  }

  int positiveInt(String key, JsonNode node, int fallback) {
    return wholeNumber(key, node, fallback, 1);
  }

  int nonNegativeInt(String key, JsonNode node, int fallback) {
    return wholeNumber(key, node, fallback, 0);
  }

  private int wholeNumber(String key, JsonNode node, int fallback, int least) {
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < least) {
      problem(key, node, "a whole number >= " + least);
      return fallback;
    }
    return node.asInt();
  }

  Duration duration(String key, JsonNode node, Duration fallback) {
    if (node == null || node.isNull()) {
      return fallback;
    }
    Duration d = node.isTextual() ? Durations.parseOrNull(node.asText()) : null;
    if (d == null || d.isZero()) {
      problem(key, node, "a duration such as 30s, 500ms, 2m");
      return fallback;
    }
    return d;
  }

  /** {@code host:port}; absent means {@code fallback}, or a problem when there is none. */
  HostPort hostPort(String key, JsonNode node, String fallback) {
    if (node == null || node.isNull()) {
      if (fallback == null) {
        missing(key, "host:port such as 127.0.0.1:8080");
        return null;
      }
      return HostPort.parse(fallback);
    }
    if (!node.isTextual()) {
      problem(key, node, "host:port such as 127.0.0.1:8080");
      return null;
    }
    return parsedHostPort(key, node.asText());
  }

  /** {@link HostPort#parse}, its complaint recorded as this key's problem. */
  HostPort parsedHostPort(String key, String text) {
    try {
      return HostPort.parse(text);
    } catch (IllegalArgumentException e) {
      problems.add(key + ": " + e.getMessage());
      return null;
    }
  }

  Path absolutePath(String key, JsonNode node, String what) {
    if (node == null || node.isNull()) {
      missing(key, "the absolute path of " + what);
      return null;
    }
    if (!node.isTextual() || !Path.of(node.asText()).isAbsolute()) {
      problem(key, node, "the absolute path of " + what);
      return null;
    }
    return Path.of(node.asText());
  }

  void missing(String key, String expected) {
    problems.add(key + ": missing (expected " + expected + ")");
  }

  void problem(String key, JsonNode value, String expected) {
    problems.add(key + ": " + shown(value) + " (expected " + expected + ")");
  }

  /** {@code key: "value" (expected ...): what is wrong with it}, for a value that names a file. */
  void problem(String key, JsonNode value, String expected, String detail) {
    problems.add(key + ": " + shown(value) + " (expected " + expected + "): " + detail);
  }

  private static String shown(JsonNode value) {
    return value == null
        ? "missing"
        : value.isTextual() ? "\"" + value.asText() + "\"" : value.toString();
  }
}
