package io.baton.sidecar.discovery;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.sidecar.config.Durations;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.upstream.Member;
import java.time.Duration;
import java.util.Iterator;
import java.util.Set;

/**
 * Reads one member from an etcd key and its value, in the forms nginx-upsync users already keep in
 * their stores:
 *
 * <ul>
 *   <li>the address in the key, parameters (or nothing) in the value: {@code
 *       /baton/clusters/backend/10.0.0.7:8080 = {"weight":2,"max_fails":3,"fail_timeout":10}}
 *   <li>any key, the address in the value: {@code .../a = 10.0.0.7:8080} or {@code .../a =
 *       {"address":"10.0.0.7:8080","weight":2}}
 * </ul>
 *
 * Parameters take upsync's names ({@code max_fails}, {@code fail_timeout} in seconds, {@code down}
 * as 0/1) or Baton's ({@code maxFails}, {@code failTimeout} as a duration such as {@code 10s},
 * {@code down} as true/false). Anything else is rejected with a reason, never guessed at.
 */
public final class MemberParser {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> KNOWN =
      Set.of("address", "weight", "maxFails", "max_fails", "failTimeout", "fail_timeout", "down");

  private final String prefix;

  public MemberParser(String prefix) {
    this.prefix = prefix;
  }

  public ParsedMember parse(String key, String value) {
    String name = key.startsWith(prefix) ? key.substring(prefix.length()) : key;
    HostPort inKey = addressOrNull(name);
    String text = value == null ? "" : value.trim();
    if (text.isEmpty()) {
      return inKey != null
          ? new ParsedMember.Accepted(key, Member.of(inKey))
          : reject(
              key,
              "\""
                  + name
                  + "\" is not host:port and the value is empty (expected host:port in the key or"
                  + " the value)");
    }
    if (!text.startsWith("{")) {
      HostPort inValue = addressOrNull(text);
      if (inValue == null) {
        return reject(
            key, "value \"" + abbreviate(text) + "\" is neither host:port nor a JSON object");
      }
      return sameAddress(key, inKey, inValue);
    }
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return reject(key, "value is not valid JSON (" + e.getOriginalMessage() + ")");
    }
    if (!node.isObject()) {
      return reject(key, "value " + abbreviate(text) + " is not a JSON object");
    }
    return fromJson(key, name, inKey, node);
  }

  private ParsedMember fromJson(String key, String name, HostPort inKey, JsonNode node) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!KNOWN.contains(field)) {
        return reject(
            key,
            "unknown field \""
                + field
                + "\" (expected address, weight, max_fails/maxFails, fail_timeout/failTimeout,"
                + " down)");
      }
    }
    HostPort address = inKey;
    JsonNode addressNode = node.get("address");
    if (addressNode != null) {
      HostPort inValue = addressNode.isTextual() ? addressOrNull(addressNode.asText()) : null;
      if (inValue == null) {
        return reject(key, "address " + addressNode + " is not host:port");
      }
      if (inKey != null && !inKey.equals(inValue)) {
        return reject(key, "the key names " + inKey + " but the value's address is " + inValue);
      }
      address = inValue;
    }
    if (address == null) {
      return reject(key, "\"" + name + "\" is not host:port and the value has no address");
    }
    try {
      int weight = integer(node, "weight", null, Member.DEFAULT_WEIGHT, 1);
      int maxFails = integer(node, "maxFails", "max_fails", Member.DEFAULT_MAX_FAILS, 0);
      Duration failTimeout = failTimeout(node);
      boolean down = down(node);
      return new ParsedMember.Accepted(
          key, new Member(address, weight, maxFails, failTimeout, down));
    } catch (IllegalArgumentException e) {
      return reject(key, e.getMessage());
    }
  }

  private static ParsedMember sameAddress(String key, HostPort inKey, HostPort inValue) {
    if (inKey != null && !inKey.equals(inValue)) {
      return reject(key, "the key names " + inKey + " but the value is " + inValue);
    }
    return new ParsedMember.Accepted(key, Member.of(inValue));
  }

  private static int integer(JsonNode node, String name, String upsyncName, int fallback, int min) {
    String field =
        node.has(name) ? name : upsyncName != null && node.has(upsyncName) ? upsyncName : null;
    if (field == null) {
      return fallback;
    }
    JsonNode v = node.get(field);
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min) {
      throw new IllegalArgumentException(
          field + ": " + v + " (expected a whole number of " + min + " or more)");
    }
    return v.asInt();
  }

  private static Duration failTimeout(JsonNode node) {
    JsonNode v = node.has("failTimeout") ? node.get("failTimeout") : node.get("fail_timeout");
    if (v == null) {
      return Member.DEFAULT_FAIL_TIMEOUT;
    }
    // upsync writes whole seconds as a number; Baton's config writes durations.
    if (v.isIntegralNumber() && v.canConvertToInt() && v.asInt() >= 0) {
      return Duration.ofSeconds(v.asInt());
    }
    Duration d = v.isTextual() ? Durations.parseOrNull(v.asText()) : null;
    if (d == null) {
      throw new IllegalArgumentException(
          "fail_timeout: " + v + " (expected seconds such as 10, or a duration such as 10s)");
    }
    return d;
  }

  private static boolean down(JsonNode node) {
    JsonNode v = node.get("down");
    if (v == null) {
      return false;
    }
    if (v.isBoolean()) {
      return v.asBoolean();
    }
    // canConvertToInt first: asInt() keeps the low 32 bits, so 4294967297 would read as 1.
    if (v.isIntegralNumber() && v.canConvertToInt() && (v.asInt() == 0 || v.asInt() == 1)) {
      return v.asInt() == 1;
    }
    throw new IllegalArgumentException("down: " + v + " (expected true/false or 1/0)");
  }

  private static HostPort addressOrNull(String text) {
    try {
      HostPort hp = HostPort.parse(text);
      return hp.port() == 0 || hp.host().isBlank() ? null : hp;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static ParsedMember reject(String key, String reason) {
    return new ParsedMember.Rejected(key, reason);
  }

  private static String abbreviate(String text) {
    return text.length() <= 80 ? text : text.substring(0, 77) + "...";
  }
}
