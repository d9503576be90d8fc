package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The extension registry: canonical and deprecated names, type URLs, and refusals by kind. */
class ExtensionsTest {

    @Test
    void deprecatedNamesResolveToTheSameExtension() {
        for (var pair : List.of(List.of("envoy.router", "envoy.filters.http.router"),
                List.of("envoy.http_connection_manager", "envoy.filters.network.http_connection_manager"),
                List.of("envoy.tcp_proxy", "envoy.filters.network.tcp_proxy"),
                List.of("envoy.listener.proxy_protocol", "envoy.filters.listener.proxy_protocol"),
                List.of("envoy.listener.tls_inspector", "envoy.filters.listener.tls_inspector"),
                List.of("envoy.listener.original_dst", "envoy.filters.listener.original_dst"),
                List.of("envoy.listener.original_src", "envoy.filters.listener.original_src"),
                List.of("envoy.filters.network.rbac", "envoy.filters.network.rbac"),
                List.of("envoy.filters.http.rbac", "envoy.filters.http.rbac"))) {
            assertEquals(pair.get(1), Extensions.byName(pair.get(0)).orElseThrow().name(), pair.get(0));
        }
        assertEquals("envoy.filters.http.rbac",
                Extensions.byTypeUrl("type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC").orElseThrow().name());
        assertEquals("envoy.transport_sockets.upstream_proxy_protocol", Extensions.byTypeUrl(
                "type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport").orElseThrow().name());
    }

    /** Istio's PROXY protocol page: listener filters by their old well-known names, no typed_config. */
    @Test
    void aBootstrapInTheOldNamesLoads() {
        ProxyConfig c = Bootstraps.load(Bootstraps.bootstrap("""
                - name: l
                  address: {socket_address: {address: 127.0.0.1, port_value: 10000}}
                  listener_filters:
                  - name: envoy.listener.proxy_protocol
                  - name: envoy.listener.tls_inspector
                  - name: envoy.listener.original_dst
                  - name: envoy.listener.original_src
                  filter_chains:
                  - filters:
                    - name: envoy.http_connection_manager
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                        stat_prefix: http
                        route_config: {virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: backend}}]}]}
                        http_filters: [{name: envoy.router}]
                - name: t
                  address: {socket_address: {address: 127.0.0.1, port_value: 10001}}
                  filter_chains:
                  - filters:
                    - name: envoy.tcp_proxy
                      typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: backend}
                """, Bootstraps.BACKEND));
        var filters = c.listeners().get(0).listenerFilters();
        assertInstanceOf(ListenerFilterConfig.ProxyProtocol.class, filters.get(0));
        assertInstanceOf(ListenerFilterConfig.TlsInspector.class, filters.get(1));
        assertInstanceOf(ListenerFilterConfig.OriginalDst.class, filters.get(2));
        assertInstanceOf(ListenerFilterConfig.OriginalSrc.class, filters.get(3));
        var hcm = (HttpConnectionManagerConfig) c.listeners().get(0).filterChains().get(0).filters().get(0);
        assertEquals(List.of(new HttpFilterConfig.Router("envoy.router")), hcm.httpFilters());
        assertInstanceOf(TcpProxyConfig.class, c.listeners().get(1).filterChains().get(0).filters().get(0));
    }

    @Test
    void anExtensionOfTheWrongKindIsRefusedByPath() {
        rejects(Bootstraps.chain("""
                name: envoy.filters.http.rbac
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC}
                """, ""), "listeners[0].filter_chains[0].filters[0].typed_config: "
                + "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC is not a network filter");
        rejects(Bootstraps.listener("listener_filters: [{name: envoy.tcp_proxy}]\nfilter_chains: [{filters: [{name: envoy.tcp_proxy, typed_config: "
                + "{\"@type\": " + Bootstraps.TCP_TYPE + ", stat_prefix: t, cluster: backend}}]}]\n"),
                "listeners[0].listener_filters[0].typed_config: "
                        + "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy is not a listener filter");
        rejects(Bootstraps.hcm("http_filters: [{name: envoy.filters.network.rbac, typed_config: {\"@type\": "
                + "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC, stat_prefix: x}}, {name: envoy.router}]\n"),
                Bootstraps.HCM + ".http_filters[0].typed_config: "
                        + "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC is not an HTTP filter");
    }

    @Test
    void everyExtensionIsNamedByItsTypesFullNameBeforeItIsBuilt() {
        for (Extensions.Extension e : Extensions.all()) {
            assertEquals(e.typeName(), e.type().getFullName(), e.name());
            assertEquals(true, EnvoyTypes.supportsTypeUrl(EnvoyTypes.typeUrl(e.type())), e.name());
        }
        assertEquals(false, EnvoyTypes.supportsTypeUrl("type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"));
    }
}
