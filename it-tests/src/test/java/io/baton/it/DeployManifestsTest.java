package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.CrdSchema;
import io.baton.it.support.ExternalTool;
import io.baton.it.support.StrictManifests;
import io.baton.testkit.process.BatonProcess;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The artefacts in deploy/ are what an operator applies as they are, so each is checked the way its
 * consumer reads it: Kubernetes manifests against the Kubernetes model with no unknown field (the
 * API server silently drops one, e.g. a misspelt {@code readinesProbe}, and the pod runs without
 * it), the SidecarSet against OpenKruise's CRD schema, the alert rules with promtool.
 */
@Timeout(120)
class DeployManifestsTest {

  static final Path DEPLOY =
      Path.of(System.getProperty("baton.deploy", "../deploy")).toAbsolutePath().normalize();
  static final Path KRUISE_CRD = DEPLOY.resolve("kruise/apps.kruise.io_sidecarsets.crd.yaml");
  static final Path SIDECARSET = DEPLOY.resolve("kruise/baton-sidecarset.yaml");
  static final Path RULES = DEPLOY.resolve("prometheus/baton-alerts.yaml");
  static final Path RULE_TESTS = DEPLOY.resolve("prometheus/baton-alerts.test.yaml");

  @Test
  void everyKubernetesManifestParsesIntoTheKubernetesModelWithNoUnknownField() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(DEPLOY.resolve("kubernetes"))) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files).as("manifests in %s", DEPLOY.resolve("kubernetes")).isNotEmpty();
    List<String> kinds = new ArrayList<>();
    for (Path file : files) {
      for (JsonNode doc : StrictManifests.documents(Files.readString(file))) {
        String kind = doc.path("kind").asText();
        kinds.add(kind);
        assertThat(StrictManifests.MODELS)
            .as(
                "%s: kind %s has a model to check it against (add it to StrictManifests.MODELS)",
                file, kind)
            .containsKey(kind);
        Class<? extends HasMetadata> model = StrictManifests.MODELS.get(kind);
        assertThat(doc.path("apiVersion").asText())
            .as("%s: apiVersion of %s", file, kind)
            .isEqualTo(HasMetadata.getApiVersion(model));
        HasMetadata parsed = StrictManifests.parse(doc, model);
        assertThat(
                StrictManifests.unknownFields(parsed, kind + "/" + parsed.getMetadata().getName()))
            .as("%s: fields Kubernetes does not know (it would drop them)", file)
            .isEmpty();
      }
    }
    assertThat(kinds)
        .as("the two-slot pod, its config and its Service")
        .contains("Deployment", "ConfigMap", "Service");
  }

  @Test
  void theDeploymentRunsTwoBatonSlotsSharingTheRunDirectory() throws IOException {
    Deployment deployment =
        StrictManifests.documents(
                Files.readString(DEPLOY.resolve("kubernetes/baton-deployment.yaml")))
            .stream()
            .filter(d -> d.path("kind").asText().equals("Deployment"))
            .map(d -> StrictManifests.parse(d, Deployment.class))
            .findFirst()
            .orElseThrow();
    var pod = deployment.getSpec().getTemplate().getSpec();
    List<Container> slots =
        pod.getContainers().stream().filter(c -> c.getName().startsWith("baton-")).toList();
    assertThat(slots).extracting(Container::getName).containsExactly("baton-a", "baton-b");
    for (Container slot : slots) {
      assertThat(slot.getArgs())
          .as("%s: a supervisor that stays up after its process handed off", slot.getName())
          .startsWith("launch", "--standby", "--", "run");
      assertThat(slot.getVolumeMounts())
          .as("%s mounts the shared run directory", slot.getName())
          .anySatisfy(
              m ->
                  assertThat(m.getName() + ":" + m.getMountPath())
                      .isEqualTo("baton-run:/run/baton"));
      assertThat(slot.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/ready");
    }
    assertThat(pod.getVolumes())
        .filteredOn(v -> v.getName().equals("baton-run"))
        .singleElement()
        .satisfies(
            v -> assertThat(v.getEmptyDir()).as("the run directory is an emptyDir").isNotNull());
    assertThat(deployment.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("prometheus.io/scrape", "true")
        .containsEntry("prometheus.io/port", "9901");
  }

  @Test
  void theConfigMapHoldsAConfigBatonAccepts() throws IOException {
    ConfigMap configMap =
        StrictManifests.documents(
                Files.readString(DEPLOY.resolve("kubernetes/baton-deployment.yaml")))
            .stream()
            .filter(d -> d.path("kind").asText().equals("ConfigMap"))
            .map(d -> StrictManifests.parse(d, ConfigMap.class))
            .findFirst()
            .orElseThrow();
    try (BatonFixture fixture = new BatonFixture()) {
      Path config =
          Files.writeString(
              fixture.dir().resolve("baton.yaml"), configMap.getData().get("baton.yaml"));
      BatonProcess validate = fixture.command("validate", "--config", config.toString());
      assertThat(validate.awaitExit(Duration.ofSeconds(60)))
          .as("baton validate on the ConfigMap's baton.yaml: %s", validate.stderrText())
          .isZero();
      assertThat(validate.stdoutText())
          .as("the run directory is below the emptyDir's 0777 mount point")
          .contains("runDir /run/baton/control");
    }
  }

  @Test
  void aMisspeltFieldInAManifestIsReported() {
    JsonNode doc =
        StrictManifests.documents(
                """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: typo}
                spec:
                  selector: {matchLabels: {a: b}}
                  template:
                    metadata: {labels: {a: b}}
                    spec:
                      containers:
                        - name: baton
                          image: baton
                          readinesProbe: {httpGet: {path: /ready, port: 9901}}
                """)
            .get(0);
    assertThat(
            StrictManifests.unknownFields(
                StrictManifests.parse(doc, Deployment.class), "Deployment/typo"))
        .containsExactly("Deployment/typo.spec.template.spec.containers[0].readinesProbe");
  }

  @Test
  void theSidecarSetMatchesOpenKruisesCrdSchemaAndItsContainersTheKubernetesModel()
      throws IOException {
    JsonNode sidecarSet = StrictManifests.documents(Files.readString(SIDECARSET)).get(0);
    assertThat(sidecarViolations(sidecarSet)).isEmpty();
    JsonNode baton = sidecarSet.path("spec").path("containers").get(0);
    assertThat(baton.path("upgradeStrategy").path("upgradeType").asText())
        .as("the two-slot hot upgrade")
        .isEqualTo("HotUpgrade");
    assertThat(baton.path("upgradeStrategy").path("hotUpgradeEmptyImage").asText()).isNotEmpty();
  }

  @Test
  void aMisspeltFieldInTheSidecarSetIsReported() throws IOException {
    String yaml = Files.readString(SIDECARSET);
    assertThat(
            sidecarViolations(
                StrictManifests.documents(yaml.replace("upgradeType:", "upgradeTyp:")).get(0)))
        .as("a Kruise field (the CRD closes upgradeStrategy)")
        .singleElement()
        .asString()
        .contains("upgradeTyp");
    assertThat(
            sidecarViolations(
                StrictManifests.documents(yaml.replace("readinessProbe:", "readinesProbe:"))
                    .get(0)))
        .as(
            "a core container field (the CRD preserves unknown container fields; the core model"
                + " does not)")
        .containsExactly("SidecarSet.spec.containers[0].readinesProbe");
  }

  /**
   * Violations of the CRD schema, then of the core model where the CRD lets unknown fields through:
   * the containers (minus Kruise's own fields, which the CRD checks) and the volumes.
   */
  private static List<String> sidecarViolations(JsonNode sidecarSet) throws IOException {
    JsonNode crd = StrictManifests.documents(Files.readString(KRUISE_CRD)).get(0);
    String apiVersion = sidecarSet.path("apiVersion").asText();
    CrdSchema schema = CrdSchema.of(crd, apiVersion.substring(apiVersion.indexOf('/') + 1));
    assertThat(apiVersion).isEqualTo(schema.apiVersion());
    assertThat(sidecarSet.path("kind").asText()).isEqualTo(schema.kind());
    List<String> violations = new ArrayList<>(schema.violations(sidecarSet));
    JsonNode kruiseContainerFields = schema.at("spec", "containers", "items").path("properties");
    for (String list : List.of("containers", "initContainers")) {
      JsonNode containers = sidecarSet.path("spec").path(list);
      for (int i = 0; i < containers.size(); i++) {
        Container core =
            StrictManifests.parse(
                StrictManifests.without(containers.get(i), kruiseContainerFields.fieldNames()),
                Container.class);
        violations.addAll(
            StrictManifests.unknownFields(core, "SidecarSet.spec." + list + "[" + i + "]"));
      }
    }
    JsonNode volumes = sidecarSet.path("spec").path("volumes");
    for (int i = 0; i < volumes.size(); i++) {
      violations.addAll(
          StrictManifests.unknownFields(
              StrictManifests.parse(volumes.get(i), Volume.class),
              "SidecarSet.spec.volumes[" + i + "]"));
    }
    return violations;
  }

  @Test
  void promtoolAcceptsTheAlertRules() {
    ExternalTool.Result check =
        ExternalTool.run(
            RULES.getParent(),
            Duration.ofSeconds(60),
            "promtool",
            "check",
            "rules",
            RULES.toString());
    assertThat(check.exitCode()).as("promtool check rules:\n%s", check.output()).isZero();
    assertThat(check.output()).contains("SUCCESS: 9 rules found");
  }

  @Test
  void theAlertRulesPassTheirPromtoolUnitTests() {
    ExternalTool.Result test =
        ExternalTool.run(
            RULE_TESTS.getParent(),
            Duration.ofSeconds(60),
            "promtool",
            "test",
            "rules",
            RULE_TESTS.toString());
    assertThat(test.exitCode()).as("promtool test rules:\n%s", test.output()).isZero();
    assertThat(test.output()).contains("SUCCESS");
  }
}
