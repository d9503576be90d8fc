package io.sourcemesh.proxy.xds;

import static io.sourcemesh.proxy.xds.EnvoyResources.httpListener;
import static io.sourcemesh.proxy.xds.EnvoyResources.route;
import static io.sourcemesh.proxy.xds.EnvoyResources.staticCluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.ProxyOptions;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A proxy started from a bootstrap with dynamic_resources, as Envoy from pilot-agent's: it connects
 * with the bootstrap's node, is not ready until the first push, serves pushes beside the bootstrap's
 * static resources, and NACKs a push it refuses while the last good config keeps serving.
 */
class ProxyAdsTest {

    private static final String TCP_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

    private FakeAdsServer server;
    private Origin origin;
    private Proxy proxy;

    @BeforeEach
    void start() throws Exception {
        server = new FakeAdsServer();
        origin = Origin.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        server.close();
        origin.close();
    }

    /** Node, admin on a free port, ADS at the fake server, a static tcp listener (127.0.0.2) and its cluster. */
    private String bootstrap(String initialFetchTimeout) {
        return """
                node:
                  id: sidecar~127.0.0.1~sleep-1.default~default.svc.cluster.local
                  cluster: sleep.default
                  metadata: {NAMESPACE: default, ISTIO_VERSION: 1.22.0}
                  locality: {region: r1, zone: z1, sub_zone: s1}
                admin:
                  address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                dynamic_resources:
                  lds_config: {ads: {}, initial_fetch_timeout: %1$s, resource_api_version: V3}
                  cds_config: {ads: {}, initial_fetch_timeout: %1$s, resource_api_version: V3}
                  ads_config:
                    api_type: GRPC
                    transport_api_version: V3
                    grpc_services:
                    - envoy_grpc: {cluster_name: xds-grpc}
                static_resources:
                  listeners:
                  - name: static-tcp
                    address: {socket_address: {address: 127.0.0.2, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.tcp_proxy
                        typed_config: {"@type": %2$s, stat_prefix: tcp, cluster: backend}
                  clusters:
                  - name: backend
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: backend
                      endpoints:
                      - lb_endpoints:
                        - endpoint:
                            address: {socket_address: {address: 127.0.0.1, port_value: %3$d}}
                  - name: xds-grpc
                    type: STATIC
                    connect_timeout: 1s
                    http2_protocol_options: {}
                    load_assignment:
                      cluster_name: xds-grpc
                      endpoints:
                      - lb_endpoints:
                        - endpoint:
                            address: {socket_address: {address: 127.0.0.1, port_value: %4$d}}
                """.formatted(initialFetchTimeout, TCP_TYPE, origin.port(), server.address().getPort());
    }

    @Test
    void notReadyUntilThePushThenServesItBesideTheStaticResources() throws Exception {
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap("0s")), ProxyOptions.defaults(1));
        assertFalse(proxy.initialized());
        assertEquals("INITIALIZING\n503", admin("/ready"));

        server.acceptStream();
        DiscoveryRequest cds = server.next();
        assertEquals(TypeUrls.CLUSTER, cds.getTypeUrl());
        assertEquals("sidecar~127.0.0.1~sleep-1.default~default.svc.cluster.local", cds.getNode().getId());
        assertEquals("sleep.default", cds.getNode().getCluster());
        assertEquals("1.22.0", cds.getNode().getMetadata().getFieldsOrThrow("ISTIO_VERSION").getStringValue(), "the bootstrap's node as is");
        assertEquals(AdsClient.USER_AGENT_NAME, cds.getNode().getUserAgentName());
        // the node's locality as Envoy reports it (Node.locality), which istiod falls back on without a registry's
        assertEquals(io.envoyproxy.envoy.config.core.v3.Locality.newBuilder().setRegion("r1").setZone("z1").setSubZone("s1").build(),
                cds.getNode().getLocality());
        reachV1();

        assertTrue(proxy.initialized());
        assertEquals("LIVE\n200", admin("/ready"));
        assertEquals(200, get(proxy.listenerAddress("pushed-http")).status(), "the pushed listener serves");
        assertEquals(200, get(proxy.listenerAddress("static-tcp")).status(), "the static listener still serves");

        JsonNode dump = new ObjectMapper().readTree(admin("/config_dump").replaceAll("\\n\\d{3}$", ""));
        List<String> sections = new ArrayList<>();
        for (JsonNode c : dump.path("configs")) {
            for (String field : List.of("static_clusters", "dynamic_active_clusters", "static_listeners", "dynamic_listeners")) {
                for (JsonNode item : c.path(field)) {
                    JsonNode resource = item.has("cluster") ? item.path("cluster")
                            : item.has("listener") ? item.path("listener") : item.path("active_state").path("listener");
                    sections.add(field + " " + resource.path("name").asText());
                }
            }
        }
        assertEquals(List.of("static_clusters backend", "static_clusters xds-grpc", "dynamic_active_clusters pushed-backend",
                "static_listeners static-tcp", "dynamic_listeners pushed-http"), sections.stream().sorted(ProxyAdsTest::bySection).toList());
        assertEquals("sleep.default", dump.path("configs").get(0).path("bootstrap").path("node").path("cluster").asText(),
                "the bootstrap the proxy started from");
    }

    @Test
    void aRefusedPushIsNackedAndTheLastGoodConfigKeepsServing() throws Exception {
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap("0s")), ProxyOptions.defaults(1));
        server.acceptStream();
        server.next();
        reachV1();
        InetSocketAddress pushed = proxy.listenerAddress("pushed-http");

        // A listener field the proxy does not support: the whole set is refused.
        server.respond(TypeUrls.LISTENER, "v2", "l2", httpListener("pushed-http", 0, "r1").toBuilder()
                .setPerConnectionBufferLimitBytes(com.google.protobuf.UInt32Value.of(1024)).build());
        DiscoveryRequest nack = server.next();
        assertEquals(TypeUrls.LISTENER, nack.getTypeUrl());
        assertEquals("v1", nack.getVersionInfo(), "a NACK names the version kept");
        assertEquals("l2", nack.getResponseNonce());
        assertEquals("listeners[0].per_connection_buffer_limit_bytes: field is not supported", nack.getErrorDetail().getMessage());

        // A pushed cluster may not replace a static one.
        server.respond(TypeUrls.CLUSTER, "v3", "c3", staticCluster("backend", "127.0.0.1", 9));
        nack = server.next();
        assertEquals(TypeUrls.CLUSTER, nack.getTypeUrl());
        assertEquals("v1", nack.getVersionInfo());
        assertEquals("clusters[0].name: 'backend' is a static cluster of the bootstrap; ADS cannot replace it",
                nack.getErrorDetail().getMessage());

        // An UpstreamTlsContext field the proxy does not honour: refused by its path, never ignored.
        server.respond(TypeUrls.CLUSTER, "v4", "c4", staticCluster("pushed-tls", "127.0.0.1", 9).toBuilder()
                .setTransportSocket(io.envoyproxy.envoy.config.core.v3.TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
                        .setTypedConfig(com.google.protobuf.Any.pack(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                                .newBuilder().setSni("pushed-tls").setAllowRenegotiation(true).build())))
                .build());
        nack = server.next();
        assertEquals(TypeUrls.CLUSTER, nack.getTypeUrl());
        assertEquals("clusters[0].transport_socket.typed_config.allow_renegotiation: field is not supported",
                nack.getErrorDetail().getMessage());

        assertEquals("v1/v1", proxy.config().version());
        assertEquals(pushed, proxy.listenerAddress("pushed-http"));
        assertEquals(200, get(pushed).status(), "v1 still serves");
        assertEquals("LIVE\n200", admin("/ready"));
    }

    @Test
    void aRefusedFirstPushEndsTheInitialFetchAsInEnvoy() throws Exception {
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap("0s")), ProxyOptions.defaults(1));
        server.acceptStream();
        server.next();
        server.respond(TypeUrls.CLUSTER, "v1", "c1", staticCluster("backend", "127.0.0.1", 9));
        server.next(); // LDS: the set is complete only with listeners
        server.respond(TypeUrls.LISTENER, "v1", "l1");
        DiscoveryRequest nack = server.next();
        assertTrue(nack.hasErrorDetail(), nack::toString);
        assertTrue(proxy.initialized());
        assertEquals("LIVE\n200", admin("/ready"));
        assertEquals(200, get(proxy.listenerAddress("static-tcp")).status(), "the static resources serve");
    }

    @Test
    void theInitialFetchTimeoutEndsTheWaitWithoutAPush() throws Exception {
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap("0.1s")), ProxyOptions.defaults(1));
        server.acceptStream();
        server.next(); // CDS, never answered
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!proxy.initialized() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(proxy.initialized(), "0.1 s for CDS, then 0.1 s for LDS");
        assertEquals("LIVE\n200", admin("/ready"));
        assertEquals(200, get(proxy.listenerAddress("static-tcp")).status());
    }

    /** CDS, LDS and RDS v1: a listener routing to a pushed cluster on the origin. */
    private void reachV1() throws InterruptedException {
        server.respond(TypeUrls.CLUSTER, "v1", "c1", staticCluster("pushed-backend", "127.0.0.1", origin.port()));
        assertEquals(TypeUrls.LISTENER, server.next().getTypeUrl());
        server.respond(TypeUrls.LISTENER, "v1", "l1", httpListener("pushed-http", 0, "r1"));
        assertEquals(TypeUrls.ROUTE, server.next().getTypeUrl());
        server.respond(TypeUrls.ROUTE, "v1", "r1", route("r1", "pushed-backend"));
        for (int i = 0; i < 3; i++) {
            DiscoveryRequest ack = server.next();
            assertFalse(ack.hasErrorDetail(), ack::toString);
            assertEquals("v1", ack.getVersionInfo());
        }
    }

    private static int bySection(String a, String b) {
        List<String> order = List.of("static_clusters", "dynamic_active_clusters", "static_listeners", "dynamic_listeners");
        int c = Integer.compare(order.indexOf(a.split(" ")[0]), order.indexOf(b.split(" ")[0]));
        return c != 0 ? c : a.compareTo(b);
    }

    private String admin(String path) {
        InetSocketAddress a = proxy.adminAddress().orElseThrow();
        Curl.Result r = Curl.run("http://127.0.0.1:" + a.getPort() + path);
        return r.out().strip().replace("\n\n", "\n");
    }

    private static Curl.Result get(InetSocketAddress listener) {
        return Curl.run("-o", "/dev/null", "http://" + listener.getAddress().getHostAddress() + ":" + listener.getPort() + "/echo");
    }
}
