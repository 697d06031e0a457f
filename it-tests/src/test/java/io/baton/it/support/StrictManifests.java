package io.baton.it.support;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads Kubernetes manifests into fabric8's typed models and reports every field the model does not
 * know. fabric8 never fails on an unknown field: it keeps it in the object's {@code
 * additionalProperties} (the API server would drop it, or refuse it with {@code
 * fieldValidation=Strict}), so this walks the parsed objects and collects those.
 */
public final class StrictManifests {

  /** The kinds deploy/kubernetes may contain; anything else fails instead of going unchecked. */
  public static final Map<String, Class<? extends HasMetadata>> MODELS =
      Map.of(
          "ConfigMap", ConfigMap.class, "Service", Service.class, "Deployment", Deployment.class);

  /** YAML as the API server reads it: a key given twice is an error, not "the last one wins". */
  public static final ObjectMapper YAML =
      YAMLMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  private StrictManifests() {}

  /** Every non-empty document of a (multi-document) YAML text. */
  public static List<JsonNode> documents(String yaml) {
    List<JsonNode> docs = new ArrayList<>();
    try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(yaml)) {
      while (it.hasNext()) {
        JsonNode doc = it.next();
        if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
          docs.add(doc);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return docs;
  }

  /** Parses {@code node} as {@code type}; fails on a value the model cannot take (a wrong type). */
  public static <T> T parse(JsonNode node, Class<T> type) {
    try {
      return YAML.treeToValue(node, type);
    } catch (IOException e) {
      throw new AssertionError(type.getSimpleName() + " does not parse: " + e.getMessage(), e);
    }
  }

  /**
   * The paths (like {@code spec.template.spec.containers[1].readinesProbe}) of fields the model
   * does not know.
   */
  public static List<String> unknownFields(Object parsed, String root) {
    List<String> unknown = new ArrayList<>();
    walk(parsed, root, unknown);
    return unknown;
  }

  private static void walk(Object value, String path, List<String> unknown) {
    if (value instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        walk(list.get(i), path + "[" + i + "]", unknown);
      }
    } else if (value instanceof Map<?, ?> map) {
      map.forEach((k, v) -> walk(v, path + "." + k, unknown));
    } else if (value instanceof KubernetesResource) {
      BeanDescription bean =
          YAML.getSerializationConfig().introspect(YAML.constructType(value.getClass()));
      for (BeanPropertyDefinition property : bean.findProperties()) {
        if (property.getAccessor() != null) {
          walk(property.getAccessor().getValue(value), path + "." + property.getName(), unknown);
        }
      }
      if (bean.findAnyGetter() != null) {
        Object extra = bean.findAnyGetter().getValue(value);
        if (extra instanceof Map<?, ?> fields) {
          fields.keySet().forEach(k -> unknown.add(path + "." + k));
        }
      }
    }
  }

  /** A copy of {@code node} without the given top-level fields. */
  public static ObjectNode without(JsonNode node, Iterator<String> fields) {
    ObjectNode copy = node.deepCopy();
    fields.forEachRemaining(copy::remove);
    return copy;
  }
}
