package io.baton.handoff;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaMember;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The arrows between the library's packages, checked on every build (the package-info of {@code
 * io.baton.handoff} says which packages are public and why the others point the way they do). A
 * broken rule fails {@code mvn verify} with the offending class, member and line.
 */
@AnalyzeClasses(packages = "io.baton.handoff", importOptions = ImportOption.DoNotIncludeTests.class)
class HandoffArchitectureTest {

  /** What the application may use: the vocabulary and the facade. */
  static final Set<String> PUBLIC_PACKAGES = Set.of("io.baton.handoff", "io.baton.handoff.process");

  @ArchTest
  static final ArchRule noCyclesBetweenPackages =
      slices()
          .matching("io.baton.handoff.(*)..")
          .namingSlices("handoff.$1")
          .should()
          .beFreeOfCycles();

  /**
   * Bottom to top: the vocabulary and the state tables know nothing of the library; the OS edge
   * knows only the vocabulary; each side builds on wire, peer, rundir and migration and never on
   * the other side; only the facade sees both.
   */
  @ArchTest
  static final ArchRule packagesPointOneWay =
      layeredArchitecture()
          .consideringOnlyDependenciesInLayers()
          .layer("vocabulary")
          .definedBy("io.baton.handoff")
          .layer("state")
          .definedBy("io.baton.handoff.state..")
          .layer("os")
          .definedBy("io.baton.handoff.os..")
          .layer("wire")
          .definedBy("io.baton.handoff.wire..")
          .layer("peer")
          .definedBy("io.baton.handoff.peer..")
          .layer("rundir")
          .definedBy("io.baton.handoff.rundir..")
          .layer("migration")
          .definedBy("io.baton.handoff.migration..")
          .layer("incoming")
          .definedBy("io.baton.handoff.incoming..")
          .layer("outgoing")
          .definedBy("io.baton.handoff.outgoing..")
          .layer("facade")
          .definedBy("io.baton.handoff.process..")
          .whereLayer("vocabulary")
          .mayNotAccessAnyLayer()
          .whereLayer("state")
          .mayNotAccessAnyLayer()
          .whereLayer("os")
          .mayOnlyAccessLayers("vocabulary")
          .whereLayer("wire")
          .mayOnlyAccessLayers("vocabulary", "os")
          .whereLayer("peer")
          .mayOnlyAccessLayers("vocabulary", "os")
          .whereLayer("rundir")
          .mayOnlyAccessLayers("vocabulary", "os", "peer")
          .whereLayer("migration")
          .mayOnlyAccessLayers("vocabulary", "os", "wire", "peer")
          .whereLayer("incoming")
          .mayOnlyAccessLayers("vocabulary", "state", "os", "wire", "peer", "rundir", "migration")
          .whereLayer("outgoing")
          .mayOnlyAccessLayers("vocabulary", "state", "os", "wire", "peer", "rundir", "migration")
          .whereLayer("facade")
          .mayNotBeAccessedByAnyLayer()
          .because(
              "each package builds on those below it, so that none can be understood only together"
                  + " with another");

  @ArchTest
  static final ArchRule handoffNeverImportsTheSidecar =
      noClasses()
          .that()
          .resideInAPackage("io.baton.handoff..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("io.baton.sidecar..")
          .because("the library serves any application; the sidecar is one of them");

  @ArchTest
  static final ArchRule onlyTheOsEdgeTouchesJunixsocket =
      noClasses()
          .that()
          .resideOutsideOfPackage("io.baton.handoff.os..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.newsclub..")
          .because(
              "handoff.os is the one place that turns native failures into OsException (style habit"
                  + " 8)");

  @ArchTest
  static final ArchRule productCodeNeverUsesTheTestKit =
      noClasses()
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("org.junit..", "org.assertj..", "org.awaitility..")
          .because("the test kit is not the product");

  /**
   * The public packages' public members speak only public types: an application that uses them
   * never has to name os, wire, peer, rundir, migration, incoming, outgoing or state.
   */
  @ArchTest
  static final ArchRule thePublicApiExposesNoInternalType =
      ArchRuleDefinition.members()
          .that()
          .areDeclaredInClassesThat()
          .resideInAnyPackage(PUBLIC_PACKAGES.toArray(String[]::new))
          .and()
          .areDeclaredInClassesThat()
          .arePublic()
          .and()
          .arePublic()
          .should(exposeOnlyPublicTypes());

  private static ArchCondition<JavaMember> exposeOnlyPublicTypes() {
    return new ArchCondition<>(
        "expose only types of " + PUBLIC_PACKAGES + ", the JDK or the protocol") {
      @Override
      public void check(JavaMember member, ConditionEvents events) {
        List<JavaClass> exposed = new ArrayList<>();
        if (member instanceof JavaCodeUnit code) {
          exposed.add(code.getRawReturnType());
          exposed.addAll(code.getRawParameterTypes());
          exposed.addAll(code.getExceptionTypes());
        } else if (member instanceof JavaField field) {
          exposed.add(field.getRawType());
        }
        for (JavaClass type : exposed) {
          JavaClass base = type.isArray() ? type.getBaseComponentType() : type;
          if (isInternal(base)) {
            events.add(
                SimpleConditionEvent.violated(
                    member,
                    member.getFullName()
                        + " exposes "
                        + base.getName()
                        + " (expected: a type of "
                        + PUBLIC_PACKAGES
                        + ")"));
          }
        }
      }
    };
  }

  private static boolean isInternal(JavaClass type) {
    String pkg = type.getPackageName();
    return pkg.startsWith("io.baton.handoff.")
        && !PUBLIC_PACKAGES.contains(pkg)
        && !type.getModifiers().contains(JavaModifier.SYNTHETIC);
  }
}
