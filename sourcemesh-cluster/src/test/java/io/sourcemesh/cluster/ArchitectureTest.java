package io.sourcemesh.cluster;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The build check on this module's shape: no package cycle, and the cluster reaches into the
 * proxy only through the named set below (nested types of a named class included). Adding to the
 * set is a decision to make in review, not a side effect of an import.
 */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.sourcemesh.cluster");

    /**
     * What the cluster may use of the proxy: running one (Proxy, its options and config entry
     * points, the xDS client). The L4 pieces its kube-proxy, load balancers and interception reuse
     * (transport, upstream connector and source binding, the byte relay, the embedded runtime's
     * hooks) are the sourcemesh-l4 module's, outside the proxy.
     */
    static final Set<String> ALLOWED_PROXY_TYPES = Set.of(
            "io.sourcemesh.proxy.Proxy",
            "io.sourcemesh.proxy.ProxyOptions",
            "io.sourcemesh.proxy.config.AccessLogConfig",
            "io.sourcemesh.proxy.config.AdminConfig",
            "io.sourcemesh.proxy.config.AdsConfig",
            "io.sourcemesh.proxy.config.BootstrapLoader",
            "io.sourcemesh.proxy.config.ConfigException",
            "io.sourcemesh.proxy.config.ListenerConfig",
            "io.sourcemesh.proxy.config.NodeInfo",
            "io.sourcemesh.proxy.config.ProxyConfig",
            "io.sourcemesh.proxy.xds.AdsClient",
            "io.sourcemesh.proxy.xds.TypeUrls",
            "io.sourcemesh.proxy.xds.XdsConfigApplier");

    @Test
    void noPackageCycles() {
        slices().matching("io.sourcemesh.(**)").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void proxyInternalsOnlyThroughTheNamedSet() {
        DescribedPredicate<JavaClass> internal = DescribedPredicate.describe("proxy types outside ALLOWED_PROXY_TYPES",
                c -> c.getPackageName().startsWith("io.sourcemesh.proxy")
                        && !ALLOWED_PROXY_TYPES.contains(c.getName().replaceFirst("\\$.*", "")));
        noClasses().that().resideInAPackage("io.sourcemesh.cluster..")
                .should().dependOnClassesThat(internal)
                .check(CLASSES);
    }
}
