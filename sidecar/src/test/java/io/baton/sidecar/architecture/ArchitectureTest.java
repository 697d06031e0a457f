package io.baton.sidecar.architecture;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.util.Set;

/**
 * The arrows between the sidecar's packages, checked on its main classes at every build: a change
 * that breaks one fails {@code mvn verify} with the offending dependency named.
 *
 * <p>The packages form layers, each importing only the ones below it: {@code server}, {@code cli}
 * (the composition root) → protocols ({@code http1}, {@code http2}, {@code tcp}, {@code
 * httpserver}) → {@code listener} → {@code drain} → {@code migration} → {@code upstream}, {@code
 * h2c}, {@code metrics}, {@code config} → the handoff library's public packages.
 */
@AnalyzeClasses(
    packages = {"io.baton.sidecar", "io.baton.handoff"},
    importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  static final Set<String> HANDOFF_PUBLIC_PACKAGES =
      Set.of("io.baton.handoff", "io.baton.handoff.process");

  /**
   * A cycle makes two packages one: neither can be read, tested or changed alone. Each protocol
   * registers how it resumes a moved connection ({@code migration.ConnectionResumer}) so that the
   * generic code never imports a protocol.
   */
  @ArchTest
  static final ArchRule noCycleBetweenSidecarPackages =
      slices()
          .matching("io.baton.sidecar.(**)")
          .namingSlices("sidecar.$1")
          .should()
          .beFreeOfCycles();

  /**
   * The load clients, test upstreams and raw protocol clients are a test kit, not the product: they
   * live in the testkit modules ({@code io.baton.testkit..}, formerly {@code sidecar.demo}), which
   * baton.jar loads only when a test-kit command is asked for ({@code cli.TestKitCommands}, by
   * name, through a class loader of its own). The proxy never imports them.
   */
  @ArchTest
  static final ArchRule productCodeDoesNotUseTheTestKit =
      noClasses()
          .that()
          .resideInAPackage("io.baton.sidecar..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("..sidecar.demo..", "..testkit..");

  /**
   * The handoff library's public packages are its root (the vocabulary) and {@code process} (the
   * facade), as its package doc says; the rest ({@code os}: junixsocket and raw fds, {@code wire},
   * {@code peer}, {@code rundir}, {@code state}, {@code migration}, {@code incoming}, {@code
   * outgoing}) is its own, free to change. The library's own test checks the other direction
   * (handoff never imports the sidecar).
   */
  @ArchTest
  static final ArchRule sidecarUsesOnlyTheHandoffPublicApi =
      noClasses()
          .that()
          .resideInAPackage("io.baton.sidecar..")
          .should()
          .dependOnClassesThat(
              resideInAPackage("io.baton.handoff..")
                  .and(not(resideInAnyPackage(HANDOFF_PUBLIC_PACKAGES.toArray(String[]::new))))
                  .as("are in the handoff library's internal packages"));
}
