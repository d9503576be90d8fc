package io.sourcemesh.api;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The build check on this module's shape: no package depends on itself through another. One
 * known exception, not yet untangled: {@code resource.Validator} ends by calling
 * {@code mesh.ProxyConfigs.validate} and {@code support.SupportCheck.check}, packages that use
 * {@code resource}'s types. Only those two edges are ignored; any other cycle fails.
 */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.sourcemesh.api");

    @Test
    void noPackageCycles() {
        slices().matching("io.sourcemesh.(**)").should().beFreeOfCycles()
                .ignoreDependency(named("io.sourcemesh.api.resource.Validator"), named("io.sourcemesh.api.mesh.ProxyConfigs"))
                .ignoreDependency(named("io.sourcemesh.api.resource.Validator"), named("io.sourcemesh.api.support.SupportCheck"))
                .ignoreDependency(named("io.sourcemesh.api.resource.Validator"), named("io.sourcemesh.api.support.SupportCheck$Findings"))
                .check(CLASSES);
    }

    private static DescribedPredicate<JavaClass> named(String name) {
        return DescribedPredicate.describe(name, c -> c.getName().equals(name));
    }
}
