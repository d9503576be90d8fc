package io.sourcemesh.proxy.admin;

import static io.sourcemesh.proxy.admin.AdminFixtures.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConfigDumpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String T = "type.googleapis.com/envoy.admin.v3.";

    private final AdminFixtures.FakeView view = new AdminFixtures.FakeView();
    private final AdminServer server = AdminFixtures.start(view);

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void dumpsEnvoysConfigTypesInEnvoysOrder() throws Exception {
        JsonNode configs = dump("/config_dump").get("configs");
        assertEquals(List.of(T + "BootstrapConfigDump", T + "ClustersConfigDump", T + "ListenersConfigDump",
                T + "ScopedRoutesConfigDump", T + "RoutesConfigDump", T + "SecretsConfigDump"), types(configs));
    }

    @Test
    void staticListenerCarriesItsTypedConfigs() throws Exception {
        JsonNode listeners = dump("/config_dump").get("configs").get(2);
        JsonNode entry = listeners.get("static_listeners").get(0);
        JsonNode listener = entry.get("listener");
        assertEquals("type.googleapis.com/envoy.config.listener.v3.Listener", listener.get("@type").asText());
        assertEquals(AdminFixtures.LISTENER, listener.get("name").asText());
        assertEquals(15006, listener.at("/address/socket_address/port_value").asInt());
        assertTrue(entry.get("last_updated").asText().endsWith("Z"), entry.toString());
        JsonNode hcm = listener.at("/filter_chains/0/filters/0/typed_config");
        assertEquals("type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                hcm.get("@type").asText());
        assertEquals("type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                hcm.at("/http_filters/0/typed_config/@type").asText());
        assertEquals("type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst",
                listener.at("/listener_filters/0/typed_config/@type").asText());
    }

    @Test
    void redactsPrivateKeysAsEnvoyDoes() throws Exception {
        String body = get(server, "/config_dump").body();
        assertFalse(body.contains("secret"), "private key leaked");
        JsonNode key = JSON.readTree(body).at("/configs/2/static_listeners/0/listener/filter_chains/0/transport_socket"
                + "/typed_config/common_tls_context/tls_certificates/0/private_key/inline_bytes");
        assertEquals("[redacted]", new String(java.util.Base64.getDecoder().decode(key.asText())));
        assertTrue(body.contains("/etc/certs/cert-chain.pem"), "non-sensitive fields stay");
    }

    @Test
    void aClustersUpstreamTlsContextIsDumpedAsGivenItsKeyRedacted() throws Exception {
        String body = get(server, "/config_dump").body();
        JsonNode socket = JSON.readTree(body).at("/configs/1/static_clusters/0/cluster/transport_socket");
        assertEquals("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                socket.at("/typed_config/@type").asText());
        assertEquals(AdminFixtures.UPSTREAM_SNI, socket.at("/typed_config/sni").asText());
        assertEquals("[redacted]", socket.at("/typed_config/common_tls_context/tls_certificates/0/private_key/inline_string").asText());
    }

    @Test
    void bootstrapClustersAndInlineRoutes() throws Exception {
        JsonNode configs = dump("/config_dump").get("configs");
        assertEquals("httpbin.default", configs.at("/0/bootstrap/node/cluster").asText());
        assertEquals(AdminFixtures.CLUSTER, configs.at("/1/static_clusters/0/cluster/name").asText());
        assertEquals(AdminFixtures.ROUTE, configs.at("/4/static_route_configs/0/route_config/name").asText());
        assertEquals("type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
                configs.at("/4/static_route_configs/0/route_config/@type").asText());
    }

    @Test
    void parsesBackIntoEnvoysProto() throws Exception {
        String body = get(server, "/config_dump").body();
        ConfigDump.Builder parsed = ConfigDump.newBuilder();
        JsonFormat.parser().usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
                .add(ConfigDump.getDescriptor().getFile().getMessageTypes())
                .add(io.envoyproxy.envoy.admin.v3.ClustersConfigDump.getDescriptor())
                .add(io.envoyproxy.envoy.admin.v3.ListenersConfigDump.getDescriptor())
                .add(io.envoyproxy.envoy.admin.v3.RoutesConfigDump.getDescriptor())
                .add(io.envoyproxy.envoy.admin.v3.ScopedRoutesConfigDump.getDescriptor())
                .add(io.envoyproxy.envoy.admin.v3.SecretsConfigDump.getDescriptor())
                .add(io.envoyproxy.envoy.admin.v3.BootstrapConfigDump.getDescriptor())
                .add(io.envoyproxy.envoy.config.listener.v3.Listener.getDescriptor())
                .add(io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.getDescriptor())
                .add(io.envoyproxy.envoy.extensions.filters.http.router.v3.Router.getDescriptor())
                .add(io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst.getDescriptor())
                .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.getDescriptor())
                .add(io.envoyproxy.envoy.config.route.v3.RouteConfiguration.getDescriptor())
                .add(Cluster.getDescriptor())
                .build()).merge(body, parsed);
        assertEquals(6, parsed.getConfigsCount());
    }

    @Test
    void resourceFilterListsOneKindPackedAsItsOwnType() throws Exception {
        JsonNode configs = dump("/config_dump?resource=static_listeners").get("configs");
        assertEquals(1, configs.size());
        assertEquals(T + "ListenersConfigDump.StaticListener", configs.at("/0/@type").asText());
        assertEquals(AdminFixtures.LISTENER, configs.at("/0/listener/name").asText());

        HttpResponse<String> missing = get(server, "/config_dump?resource=dynamic_listeners");
        assertEquals(404, missing.statusCode());
        assertEquals("dynamic_listeners not found in config dump", missing.body());
    }

    @Test
    void includeEdsAddsEndpointsAfterClusters() throws Exception {
        JsonNode configs = dump("/config_dump?include_eds").get("configs");
        assertEquals(T + "EndpointsConfigDump", configs.at("/2/@type").asText());
        assertEquals("127.17.0.5", configs.at("/2/static_endpoint_configs/0/endpoint_config/endpoints/0"
                + "/lb_endpoints/0/endpoint/address/socket_address/address").asText());
    }

    @Test
    void maskKeepsOnlyTheAskedFields() throws Exception {
        JsonNode configs = dump("/config_dump?resource=static_clusters&mask=cluster.name").get("configs");
        assertEquals(1, configs.size());
        assertEquals(AdminFixtures.CLUSTER, configs.at("/0/cluster/name").asText());
        assertTrue(configs.at("/0/cluster/load_assignment").isMissingNode());
        assertTrue(configs.at("/0/last_updated").isMissingNode());
    }

    @Test
    void adsDeliveredResourcesAreDynamicWithTheirVersion() throws Exception {
        Bootstrap startup = Bootstrap.newBuilder()
                .setNode(AdminFixtures.bootstrap().getNode())
                .setStaticResources(Bootstrap.StaticResources.newBuilder()
                        .addClusters(Cluster.newBuilder().setName("xds-grpc")))
                .build();
        Bootstrap synthetic = AdminFixtures.bootstrap().toBuilder()
                .setStaticResources(AdminFixtures.bootstrap().getStaticResources().toBuilder()
                        .addClusters(Cluster.newBuilder().setName("xds-grpc")))
                .build();
        AdminFixtures.FakeView ads = new AdminFixtures.FakeView(AdminFixtures.config(synthetic));
        ads.dynamic = true;
        ads.startup = startup;
        try (AdminServer adsServer = AdminFixtures.start(ads)) {
            JsonNode configs = JSON.readTree(get(adsServer, "/config_dump").body()).get("configs");
            assertEquals("xds-grpc", configs.at("/0/bootstrap/static_resources/clusters/0/name").asText());
            assertEquals("xds-grpc", configs.at("/1/static_clusters/0/cluster/name").asText());
            assertEquals(AdminFixtures.CLUSTER, configs.at("/1/dynamic_active_clusters/0/cluster/name").asText());
            assertEquals("v1", configs.at("/1/dynamic_active_clusters/0/version_info").asText());
            JsonNode listener = configs.at("/2/dynamic_listeners/0");
            assertEquals(AdminFixtures.LISTENER, listener.get("name").asText());
            assertEquals("v1", listener.at("/active_state/version_info").asText());
            assertEquals(AdminFixtures.LISTENER, listener.at("/active_state/listener/name").asText());
            assertTrue(configs.at("/2/static_listeners").isMissingNode());
        }
    }

    private JsonNode dump(String pathAndQuery) throws Exception {
        HttpResponse<String> r = get(server, pathAndQuery);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("content-type").orElseThrow());
        return JSON.readTree(r.body());
    }

    private static List<String> types(JsonNode configs) {
        List<String> out = new ArrayList<>();
        configs.forEach(c -> out.add(c.get("@type").asText()));
        return out;
    }
}
