package io.sourcemesh.proxy.extension;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.accesslog.AccessLog;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.sourcemesh.proxy.config.AccessLogConfig;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.config.TlsContextConfig;
import io.sourcemesh.proxy.config.TransportSocketConfig;
import io.sourcemesh.proxy.listener.VersionResources;
import io.sourcemesh.proxy.network.ConnectionContext;
import io.sourcemesh.proxy.network.DownstreamTransportSocket;
import io.sourcemesh.proxy.testing.TestCertificates;
import io.sourcemesh.proxy.tls.DownstreamTlsSocket;
import io.sourcemesh.l4.ProxyHeader;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.proxy.upstream.UpstreamTransportSocket;
import java.net.InetSocketAddress;
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
    void everyTransportSocketResolvesByEachNameAndTypeUrlToItsFactory() {
        for (Extensions.Category side : List.of(Extensions.Category.DOWNSTREAM_TRANSPORT_SOCKET,
                Extensions.Category.UPSTREAM_TRANSPORT_SOCKET)) {
            for (Extensions.Extension e : Extensions.all().stream().filter(x -> x.category() == side).toList()) {
                for (String name : java.util.stream.Stream.concat(java.util.stream.Stream.of(e.name()), e.deprecatedNames().stream()).toList()) {
                    assertEquals(e, Extensions.byName(side, name).orElseThrow(), side + " " + name);
                }
                assertEquals(e, Extensions.require(side, e.type(), "p"), side + " " + e.type().getFullName());
                boolean built = registry.registrations().stream().anyMatch(r -> r.extension().equals(e));
                assertTrue(built, side + " " + e.name() + " built");
            }
        }
        assertEquals(List.of("tls"), Extensions.byName(Extensions.Category.UPSTREAM_TRANSPORT_SOCKET, "envoy.transport_sockets.tls")
                .orElseThrow().deprecatedNames());
        assertEquals(UpstreamTlsContext.getDescriptor().getFullName(),
                Extensions.byName(Extensions.Category.UPSTREAM_TRANSPORT_SOCKET, "tls").orElseThrow().type().getFullName());
        assertEquals(DownstreamTlsContext.getDescriptor().getFullName(),
                Extensions.byName(Extensions.Category.DOWNSTREAM_TRANSPORT_SOCKET, "tls").orElseThrow().type().getFullName());
        assertTrue(Extensions.byName(Extensions.Category.DOWNSTREAM_TRANSPORT_SOCKET, "envoy.transport_sockets.upstream_proxy_protocol")
                .isEmpty());
        assertThrows(ConfigException.class, () -> Extensions.require(Extensions.Category.DOWNSTREAM_TRANSPORT_SOCKET,
                UpstreamTlsContext.getDescriptor(), "p"));
    }

    @Test
    void transportSocketsAreBuiltThroughTheRegistry() throws Exception {
        assertSame(DownstreamTransportSocket.RAW_BUFFER, registry.downstreamTransportSocket(TransportSocketConfig.RAW_BUFFER, List.of("http/1.1"), "p"));
        assertSame(UpstreamTransportSocket.RAW_BUFFER, registry.upstreamTransportSocket(TransportSocketConfig.RAW_BUFFER));
        assertEquals(Extensions.Category.DOWNSTREAM_TRANSPORT_SOCKET,
                registry.of(Extensions.Category.DOWNSTREAM_TRANSPORT_SOCKET, TransportSocketConfig.RAW_BUFFER).extension().category());
        var tls = TestCertificates.selfSigned("tls.example.com");
        var config = new TransportSocketConfig.DownstreamTls(new TlsContextConfig(
                List.of(new TlsContextConfig.CertificateConfig(tls.certificate(), tls.privateKey())),
                Optional.empty(), Optional.empty(), List.of(), Optional.empty(), false));
        assertInstanceOf(DownstreamTlsSocket.class, registry.downstreamTransportSocket(config, List.of(), "p"));
        var pp = registry.upstreamTransportSocket(new TransportSocketConfig.UpstreamProxyProtocol(ClusterConfig.UpstreamProxyProtocol.V2,
                TransportSocketConfig.RAW_BUFFER));
        var connection = new ConnectionContext("l", new InetSocketAddress("127.0.0.1", 80), new InetSocketAddress("127.0.0.9", 4000));
        assertEquals(Optional.of(new ProxyHeader(2, connection.remoteAddress(), connection.localAddress())),
                pp.bind(SourceBinding.NONE, connection).proxyHeader());
        assertThrows(IllegalStateException.class, () -> registry.upstreamTransportSocket(config), "a downstream socket on a cluster");
        assertThrows(IllegalStateException.class, () -> registry.of(TransportSocketConfig.RAW_BUFFER),
                "raw_buffer is on both sides: the side must be named");
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
        var chain = new ChainContext(null, new Stats(), null, configs -> List.of(), "listeners.l.filter_chains[0]", null,
                VersionResources.create());
        var built = registry.httpFilters(List.of(fault, rbac, new HttpFilterConfig.Router("envoy.filters.http.router")),
                "ingress_http", chain);
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
