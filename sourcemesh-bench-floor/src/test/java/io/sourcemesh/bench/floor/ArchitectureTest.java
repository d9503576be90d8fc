package io.sourcemesh.bench.floor;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The floor is Netty and the JDK alone: a measure of what SourceMesh adds cannot use SourceMesh (its pom has no
 * SourceMesh dependency; this keeps it so should one be added for something else).
 */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.sourcemesh.bench.floor");

    @Test
    void usesNothingOfSourceMesh() {
        classes().that().resideInAPackage("io.sourcemesh.bench.floor..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("io.sourcemesh.bench.floor..", "io.netty..",
                        "java..")
                .check(CLASSES);
    }
}
