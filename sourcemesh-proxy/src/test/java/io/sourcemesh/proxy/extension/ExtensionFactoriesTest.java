package io.sourcemesh.proxy.extension;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.accesslog.AccessLog;
import io.sourcemesh.proxy.config.AccessLogConfig;
import io.sourcemesh.proxy.config.Extensions;
import io.sourcemesh.proxy.config.FaultConfig;
import io.sourcemesh.proxy.config.HttpFilterConfig;
import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.config.NetworkFilterConfig;
import io.sourcemesh.proxy.rbac.RbacConfig;
import io.sourcemesh.proxy.stats.Stats;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run-time half of the registry agrees with {@link Extensions}, and every translated filter record can be built. */
class ExtensionFactoriesTest {
    private final ExtensionFactories registry = ExtensionFactories.get();

    @Test
    void everyNetworkAndHttpFilterRecordHasAFactoryOfItsCategory() {
        for (Class<?> c : NetworkFilterConfig.class.getPermittedSubclasses()) {
            ExtensionFactories.Registration r = registration(c);
            assertEquals(Extensions.Category.NETWORK_FILTER, r.extension().category(), c.getName());
        }
        for (Class<?> c : ListenerFilterConfig.class.getPermittedSubclasses()) {
            ExtensionFactories.Registration r = registration(c);
            assertEquals(Extensions.Category.LISTENER_FILTER, r.extension().category(), c.getName());
        }
        for (Class<?> c : HttpFilterConfig.class.getPermittedSubclasses()) {
            ExtensionFactories.Registration r = registration(c);
            assertEquals(Extensions.Category.HTTP_FILTER, r.extension().category(), c.getName());
        }
    }

    @Test
    void everyFilterAndAccessLoggerInExtensionsIsBuiltHere() {
        Set<String> built = registry.registrations().stream().map(r -> r.extension().name()).collect(Collectors.toSet());
        for (Extensions.Extension e : Extensions.all()) {
            if (Set.of(Extensions.Category.LISTENER_FILTER, Extensions.Category.NETWORK_FILTER, Extensions.Category.HTTP_FILTER, Extensions.Category.ACCESS_LOGGER)
                    .contains(e.category())) {
                assertTrue(built.contains(e.name()), e.name() + " is in config.Extensions but nothing builds it");
            }
        }
    }

    @Test
    void listenerFiltersRunInTheRegistrysOrderWhateverTheConfigsOrder() {
        var tls = new ListenerFilterConfig.TlsInspector("envoy.filters.listener.tls_inspector");
        var pp = new ListenerFilterConfig.ProxyProtocol("envoy.filters.listener.proxy_protocol", false, java.util.List.of());
        var dst = new ListenerFilterConfig.OriginalDst("envoy.filters.listener.original_dst");
        var built = registry.listenerFilters(java.util.List.of(tls, dst, pp));
        assertEquals(2, built.size(), "original_dst is the listener's own step: no factory");
        assertEquals("ProxyProtocolFilter", built.get(0).create().getClass().getSimpleName());
        assertEquals("TlsInspectorFilter", built.get(1).create().getClass().getSimpleName());
    }

    @Test
    void deprecatedNamesResolveToTheRegisteredExtension() {
        ExtensionFactories.Registration hcm = registry.registrations().stream()
                .filter(r -> r.extension().name().equals("envoy.filters.network.http_connection_manager")).findFirst().orElseThrow();
        assertEquals(hcm.extension(), Extensions.byName("envoy.http_connection_manager").orElseThrow());
        assertEquals(registry.of(new HttpFilterConfig.Router("envoy.router")).extension(),
                Extensions.byName("envoy.router").orElseThrow());
        HttpFilterConfig.Fault fault = new HttpFilterConfig.Fault("envoy.fault", FaultConfig.NONE);
        assertEquals(registry.of(fault).extension(), Extensions.byName("envoy.fault").orElseThrow());
        assertEquals("envoy.filters.http.fault", registry.of(fault).extension().name());
    }

    @Test
    void httpFiltersAreBuiltInOrderAndTheRouterIsNotOne() {
        var rbac = new HttpFilterConfig.Rbac("envoy.filters.http.rbac", new RbacConfig(Optional.empty(), Optional.empty(), "", ""));
        var fault = new HttpFilterConfig.Fault("envoy.fault", FaultConfig.NONE);
        var built = registry.httpFilters(List.of(fault, rbac, new HttpFilterConfig.Router("envoy.filters.http.router")),
                new Stats(), "ingress_http");
        assertEquals(List.of("FaultFilterFactory", "RbacHttpFilterFactory"),
                built.stream().map(f -> f.getClass().getSimpleName()).toList());
        assertEquals("envoy.fault", built.get(0).name(), "the configured name, which routes' typed_per_filter_config use");
    }

    @Test
    void anAccessLogIsBuiltThroughTheRegistry(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("access.log");
        try (AccessLog log = registry.accessLog(new AccessLogConfig("file",
                new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.FILE, Optional.of(file.toString())), Optional.of("%RESPONSE_CODE%\n"),
                Optional.empty()))) {
            assertNotNull(log);
        }
        assertThrows(IllegalArgumentException.class, () -> registry.accessLog(new AccessLogConfig("bad",
                new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.FILE, Optional.of(file.toString())), Optional.of("%FOO%"),
                Optional.empty())), "the access logger's own refusal comes through");
    }

    private ExtensionFactories.Registration registration(Class<?> configType) {
        return registry.registrations().stream().filter(r -> configType.equals(r.configType())).findFirst()
                .orElseThrow(() -> new AssertionError("no factory for " + configType.getName()));
    }
}
