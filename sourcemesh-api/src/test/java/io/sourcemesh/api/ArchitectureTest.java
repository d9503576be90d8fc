package io.sourcemesh.api;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The build check on this module's shape: no package depends on itself through another. */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.sourcemesh.api");

    @Test
    void noPackageCycles() {
        slices().matching("io.sourcemesh.(**)").should().beFreeOfCycles().check(CLASSES);
    }
}
