package io.baton.it.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code openAPIV3Schema} of one version of a CustomResourceDefinition, made strict: every
 * object schema that lists {@code properties} and does not say {@code
 * x-kubernetes-preserve-unknown-fields} is closed ({@code additionalProperties: false}), which is
 * what the API server does when it prunes unknown fields. Where the CRD preserves unknown fields
 * (an embedded core type such as a container), the caller checks them with the core model.
 */
public final class CrdSchema {

  private static final String PRESERVE = "x-kubernetes-preserve-unknown-fields";

  private final String group;
  private final String kind;
  private final String version;
  private final JsonNode openApi;
  private final JsonSchema strict;

  private CrdSchema(String group, String kind, String version, JsonNode openApi) {
    this.group = group;
    this.kind = kind;
    this.version = version;
    this.openApi = openApi;
    this.strict =
        JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(closed(openApi));
  }

  /** The schema of {@code version} in {@code crd}; fails if the CRD does not serve that version. */
  public static CrdSchema of(JsonNode crd, String version) {
    for (JsonNode v : crd.path("spec").path("versions")) {
      if (v.path("name").asText().equals(version)) {
        if (!v.path("served").asBoolean()) {
          throw new AssertionError(
              crd.path("metadata").path("name").asText()
                  + ": version "
                  + version
                  + " is not served (expected: a served version, or the API server refuses the"
                  + " object)");
        }
        return new CrdSchema(
            crd.path("spec").path("group").asText(),
            crd.path("spec").path("names").path("kind").asText(),
            version,
            v.path("schema").path("openAPIV3Schema"));
      }
    }
    throw new AssertionError(
        crd.path("metadata").path("name").asText() + " has no version " + version);
  }

  public String apiVersion() {
    return group + "/" + version;
  }

  public String kind() {
    return kind;
  }

  /** The (unmodified) schema at a path of property names, e.g. {@code spec, containers, items}. */
  public JsonNode at(String... path) {
    JsonNode node = openApi;
    for (String step : path) {
      node = step.equals("items") ? node.path("items") : node.path("properties").path(step);
    }
    return node;
  }

  /** Every violation of the strict schema, as "$.path: message". */
  public List<String> violations(JsonNode document) {
    List<String> out = new ArrayList<>();
    for (ValidationMessage m : strict.validate(document)) {
      out.add(m.getMessage());
    }
    return out;
  }

  private static JsonNode closed(JsonNode schema) {
    JsonNode copy = schema.deepCopy();
    close(copy);
    return copy;
  }

  private static void close(JsonNode node) {
    if (!(node instanceof ObjectNode object)) {
      return;
    }
    if (object.has("properties")
        && !object.path(PRESERVE).asBoolean()
        && !object.has("additionalProperties")) {
      object.put("additionalProperties", false);
    }
    // Kubernetes vendor keywords mean nothing to a JSON Schema validator (it would warn on each).
    List<String> vendor = new ArrayList<>();
    object
        .fieldNames()
        .forEachRemaining(
            f -> {
              if (f.startsWith("x-kubernetes-")) {
                vendor.add(f);
              }
            });
    object.remove(vendor);
    for (Map.Entry<String, JsonNode> property : object.path("properties").properties()) {
      close(property.getValue());
    }
    close(object.get("items"));
    close(object.get("additionalProperties"));
    for (String combinator : List.of("allOf", "anyOf", "oneOf")) {
      object.path(combinator).forEach(CrdSchema::close);
    }
  }
}
