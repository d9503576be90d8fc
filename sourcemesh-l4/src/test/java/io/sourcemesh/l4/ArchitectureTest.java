package io.sourcemesh.l4;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The build check on the shared L4 module: no package cycle, and nothing of the modules above it. */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.sourcemesh.l4");

    @Test
    void noPackageCycles() {
        slices().matching("io.sourcemesh.(**)").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void dependsOnNoOtherSourceMeshModule() {
        noClasses().that().resideInAPackage("io.sourcemesh.l4..")
                .should().dependOnClassesThat().resideInAnyPackage("io.sourcemesh.proxy..", "io.sourcemesh.cluster..",
                        "io.sourcemesh.api..", "io.sourcemesh.control..")
                .check(CLASSES);
    }
}
