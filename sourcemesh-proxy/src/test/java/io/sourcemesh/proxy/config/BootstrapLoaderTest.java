package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootstrapLoaderTest {

    @TempDir
    Path dir;

    @Test
    void yamlAndJsonGiveTheSameBootstrap() throws IOException {
        String yaml = Bootstraps.hcm("use_remote_address: true\n");
        String json = new ObjectMapper().writeValueAsString(new YAMLMapper().readTree(yaml));
        Bootstrap fromYaml = BootstrapLoader.parse(yaml);
        Bootstrap fromJson = BootstrapLoader.parse("  \n" + json);
        assertEquals(fromYaml, fromJson);
        HttpConnectionManager hcm = fromYaml.getStaticResources().getListeners(0).getFilterChains(0).getFilters(0)
                .getTypedConfig().unpack(HttpConnectionManager.class);
        assertTrue(hcm.getUseRemoteAddress().getValue());
    }

    @Test
    void readsFilesOfEitherKind() throws IOException {
        String yaml = Bootstraps.tcp("");
        Path yamlFile = Files.writeString(dir.resolve("b.yaml"), yaml);
        Path jsonFile = Files.writeString(dir.resolve("b.json"),
                new ObjectMapper().writeValueAsString(new YAMLMapper().readTree(yaml)));
        ProxyConfig a = BootstrapLoader.load(yamlFile);
        ProxyConfig b = BootstrapLoader.load(jsonFile);
        assertEquals(a.listeners(), b.listeners());
        assertEquals(a.clusters(), b.clusters());
        assertEquals(BootstrapLoader.read(yamlFile), a.source());
    }

    static Path resource(String name) throws Exception {
        return Path.of(BootstrapLoaderTest.class.getResource("/bootstrap/" + name).toURI());
    }

    @Test
    void gatewayJsonFixture() throws Exception {
        ProxyConfig config = BootstrapLoader.load(resource("gateway.json"));
        ListenerConfig listener = config.listener("0.0.0.0_8080").orElseThrow();
        var pp = listener.listenerFilter(ListenerFilterConfig.ProxyProtocol.class).orElseThrow();
        assertEquals(java.util.List.of(), pp.passThroughTlvs());
        var hcm = (HttpConnectionManagerConfig) listener.filterChains().get(0).filters().get(0);
        assertTrue(hcm.useRemoteAddress());
        assertEquals(1, hcm.xffNumTrustedHops());
        assertEquals(ClusterConfig.LbPolicy.LEAST_REQUEST, config.clusters().get(0).lbPolicy());
        assertEquals("istio-ingressgateway", config.node().cluster());
    }

    @Test
    void luaFixtureIsRefusedByName() throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapLoader.load(resource("lua-filter.yaml")));
        assertEquals(Bootstraps.HCM + ".http_filters[0].name: envoy.filters.http.lua is not supported", e.getMessage());
    }

    @Test
    void camelCaseJsonNamesAreAccepted() {
        String json = """
                {"staticResources": {"clusters": [{"name": "c", "connectTimeout": "2s"}]}}
                """;
        ProxyConfig config = BootstrapLoader.loadText(json);
        assertEquals(java.time.Duration.ofSeconds(2), config.cluster("c").orElseThrow().connectTimeout());
    }

    @Test
    void missingFileIsAConfigException() {
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapLoader.load(dir.resolve("nope.yaml")));
        assertTrue(e.getMessage().startsWith("cannot read bootstrap "), e.getMessage());
    }

    @Test
    void emptyAndMalformedInput() {
        rejects("", "bootstrap is empty");
        rejects("- a\n- b\n", "bootstrap must be a mapping, not ARRAY");
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapLoader.parse("a: [1,\n"));
        assertTrue(e.getMessage().startsWith("bootstrap is not valid YAML or JSON"), e.getMessage());
    }

    @Test
    void repeatedKeysAreRefusedNotOverridden() {
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapLoader.parse("node: {id: a}\nnode: {id: b}\n"));
        assertTrue(e.getMessage().startsWith("bootstrap is not valid YAML or JSON: Duplicate field 'node'"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> BootstrapLoader.parse("{\"node\": {\"id\": \"a\", \"id\": \"b\"}}"));
        assertTrue(e.getMessage().startsWith("bootstrap is not valid YAML or JSON: Duplicate field 'id'"), e.getMessage());
    }

    @Test
    void unknownFieldIsNamedByPath() {
        rejects(Bootstraps.hcm("use_remote_adress: true\n"), Bootstraps.HCM
                + ".use_remote_adress: unknown field (not in envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager)");
        rejects("admin: {adress: {}}\n", "admin.adress: unknown field (not in envoy.config.bootstrap.v3.Admin)");
    }

    @Test
    void badEnumValueIsNamedByPath() {
        rejects(Bootstraps.hcm("codec_type: HTTP4\n"), Bootstraps.HCM
                + ".codec_type: HTTP4 is not a valid value (one of AUTO, HTTP1, HTTP2, HTTP3)");
        rejects("static_resources: {clusters: [{name: c, type: 7}]}\n",
                "clusters[0].type: 7 is not a valid value (one of STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST)");
        assertEquals(ClusterConfig.DiscoveryType.ORIGINAL_DST, BootstrapLoader.loadText(
                "static_resources: {clusters: [{name: c, type: 4, lb_policy: CLUSTER_PROVIDED}]}\n").clusters().get(0).type());
    }

    @Test
    void badScalarsAndShapesAreNamedByPath() {
        rejects("static_resources: {clusters: [{name: c, connect_timeout: 5}]}\n",
                "clusters[0].connect_timeout: 5 is not a duration (e.g. \"5s\", \"0.25s\")");
        rejects("admin: {address: {socket_address: {address: 127.0.0.1, port_value: http}}}\n",
                "admin.address.socket_address.port_value: \"http\" is not an integer");
        rejects("admin: {address: {socket_address: {address: 127.0.0.1, port_value: -1}}}\n",
                "admin.address.socket_address.port_value: -1 is out of range for uint32");
        rejects("admin: {address: 127.0.0.1}\n", "admin.address: expected a mapping (envoy.config.core.v3.Address), not \"127.0.0.1\"");
        rejects("static_resources: {clusters: {name: c}}\n", "clusters: expected a list, not a mapping");
        rejects(Bootstraps.hcm("use_remote_address: yes please\n"), Bootstraps.HCM + ".use_remote_address: \"yes please\" is not a boolean");
        rejects(Bootstraps.hcm("xff_num_trusted_hops: 1.5\n"), Bootstraps.HCM + ".xff_num_trusted_hops: 1.5 is not an integer");
        rejects("node: {id: [a]}\n", "node.id: expected a string, not a list");
    }

    @Test
    void unknownTypeUrlListsWhatIsSupported() {
        String yaml = Bootstraps.chain("""
                name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
                """, "");
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapLoader.loadText(yaml));
        assertTrue(e.getMessage().startsWith("listeners[0].filter_chains[0].filters[0].typed_config: "
                + "type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy is not supported (supported: "
                + "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst, "), e.getMessage());
        assertTrue(e.getMessage().contains(Bootstraps.HCM_TYPE), e.getMessage());
        assertEquals("listeners[0].filter_chains[0].filters[0].typed_config", e.fieldPath());
    }

    @Test
    void unknownExtensionIsNamedByItsName() {
        rejects(Bootstraps.hcm("""
                http_filters:
                - name: envoy.filters.http.lua
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
                    inline_code: "function envoy_on_request(h) end"
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                """), Bootstraps.HCM + ".http_filters[0].name: envoy.filters.http.lua is not supported");
    }

    @Test
    void unsupportedBootstrapSectionsAreRejected() {
        rejects("layered_runtime: {layers: [{name: static, static_layer: {}}]}\n", "layered_runtime: field is not supported");
        rejects("dynamic_resources: {lds_resources_locator: x}\n", "dynamic_resources.lds_resources_locator: field is not supported");
        rejects("static_resources: {secrets: [{name: s}]}\n", "static_resources.secrets: field is not supported");
    }

    @Test
    void typeRegistryKnowsEverySupportedName() {
        for (String name : EnvoyTypes.supportedNames()) {
            var type = EnvoyTypes.byName(name).orElseThrow();
            // the registry holds the generated descriptors (with options, for the admin), the loader the snapshot's
            assertEquals(type.getFullName(), EnvoyTypes.registry().find(type.getFullName()).getFullName(), name);
            assertEquals(type, EnvoyTypes.byTypeUrl(EnvoyTypes.typeUrl(type)).orElseThrow());
        }
        // Distinct canonical names: tls and raw_buffer are registered once per side under the same name.
        assertEquals(22, EnvoyTypes.supportedNames().size());
        // The CORS filter's per-route type resolves by its URL, under the filter's name.
        assertEquals("envoy.filters.http.cors", EnvoyTypes.nameOf(EnvoyTypes.byTypeUrl(
                "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy").orElseThrow()));
        assertEquals("envoy.filters.listener.original_src",
                EnvoyTypes.nameOf(EnvoyTypes.byName("envoy.filters.listener.original_src").orElseThrow()));
    }

    @Test
    void nodeAndAdmin() {
        ProxyConfig config = BootstrapLoader.loadText("""
                node:
                  id: sidecar~1
                  cluster: httpbin.default
                  metadata: {NAMESPACE: default, REPLICAS: 3, ENABLED: true}
                admin:
                  address: {socket_address: {address: 127.0.0.1, port_value: 15000}}
                """);
        assertEquals(new NodeInfo("sidecar~1", "httpbin.default",
                java.util.Map.of("NAMESPACE", "default", "REPLICAS", "3", "ENABLED", "true")), config.node());
        assertEquals(new java.net.InetSocketAddress("127.0.0.1", 15000), config.admin().orElseThrow().address());
        assertTrue(config.listeners().isEmpty());
        rejects("node: {metadata: {LABELS: {app: x}}}\n", "node.metadata.LABELS: only string, number and bool values are supported");
        ProxyConfig located = BootstrapLoader.loadText("node: {id: a, cluster: b, locality: {region: r, zone: z, sub_zone: s}}\n");
        assertEquals("r/z/s", located.source() instanceof io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap b
                ? b.getNode().getLocality().getRegion() + "/" + b.getNode().getLocality().getZone() + "/"
                        + b.getNode().getLocality().getSubZone() : "no bootstrap");
        rejects("node: {locality: {zone: a, zon: b}}\n", "node.locality.zon: unknown field (not in envoy.config.core.v3.Locality)");
        rejects("admin: {access_log_path: /dev/null, address: {socket_address: {address: 127.0.0.1, port_value: 1}}}\n",
                "admin.access_log_path: field is not supported");
        rejects("admin: {}\n", "admin.address: is required");
    }
}
