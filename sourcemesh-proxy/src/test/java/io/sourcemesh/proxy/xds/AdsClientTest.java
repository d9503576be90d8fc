package io.sourcemesh.proxy.xds;

import static io.sourcemesh.proxy.xds.EnvoyResources.assignment;
import static io.sourcemesh.proxy.xds.EnvoyResources.edsCluster;
import static io.sourcemesh.proxy.xds.EnvoyResources.httpListener;
import static io.sourcemesh.proxy.xds.EnvoyResources.route;
import static io.sourcemesh.proxy.xds.EnvoyResources.staticCluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client's side of the ADS protocol, request by request, against a scripted server. */
class AdsClientTest {

    private static final Duration QUIET = Duration.ofMillis(200);
    private static final String EDS_SERVICE = "outbound|80||httpbin.default.svc.cluster.local";

    private FakeAdsServer server;
    private AdsClient client;
    private final List<XdsResources> seen = new CopyOnWriteArrayList<>();
    private volatile String refuse;

    @BeforeEach
    void start() throws Exception {
        server = new FakeAdsServer();
        client = AdsClient.connect(server.address(),
                AdsClient.node("sidecar~127.17.0.2~sleep-1.default~default.svc.cluster.local", "sleep.default",
                        Map.of("NAMESPACE", "default")),
                resources -> {
                    seen.add(resources);
                    if (refuse != null && resources.versions().containsValue(refuse)) {
                        throw new IllegalStateException("cluster static-backend: refusing " + refuse);
                    }
                },
                Duration.ofMillis(20), Duration.ofMillis(100));
        server.acceptStream();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
    }

    @Test
    void subscribesInEnvoysOrderAndAcksOnlyAfterTheHandlerAccepts() throws Exception {
        DiscoveryRequest cds = server.next();
        assertEquals(TypeUrls.CLUSTER, cds.getTypeUrl());
        assertEquals("", cds.getVersionInfo());
        assertEquals("", cds.getResponseNonce());
        assertEquals(List.of(), cds.getResourceNamesList());
        assertEquals("sidecar~127.17.0.2~sleep-1.default~default.svc.cluster.local", cds.getNode().getId());
        assertEquals("sleep.default", cds.getNode().getCluster());
        assertEquals("sourcemesh", cds.getNode().getUserAgentName());
        assertEquals(AdsClient.DEFAULT_ISTIO_VERSION, cds.getNode().getMetadata().getFieldsOrThrow("ISTIO_VERSION").getStringValue());
        assertEquals("default", cds.getNode().getMetadata().getFieldsOrThrow("NAMESPACE").getStringValue());
        server.assertQuiet(QUIET); // LDS waits for the clusters

        server.respond(TypeUrls.CLUSTER, "v1", "c1", staticCluster("static-backend", "127.17.0.9", 8080), edsWithService());
        assertRequest(server.next(), TypeUrls.ENDPOINT, "", "", List.of(EDS_SERVICE));
        server.assertQuiet(QUIET); // still warming: no LDS before EDS, and no CDS ACK before the handler

        server.respond(TypeUrls.ENDPOINT, "v1", "e1", assignment(EDS_SERVICE, "127.17.0.3", 80));
        assertRequest(server.next(), TypeUrls.LISTENER, "", "", List.of());

        server.respond(TypeUrls.LISTENER, "v1", "l1", httpListener("virtualInbound", 15006, "inbound|8080||"));
        assertRequest(server.next(), TypeUrls.ROUTE, "", "", List.of("inbound|8080||"));
        assertTrue(seen.isEmpty(), "no apply before the set is complete");

        server.respond(TypeUrls.ROUTE, "v1", "r1", route("inbound|8080||", "static-backend"));
        assertRequest(server.next(), TypeUrls.CLUSTER, "v1", "c1", List.of());
        assertRequest(server.next(), TypeUrls.ENDPOINT, "v1", "e1", List.of(EDS_SERVICE));
        assertRequest(server.next(), TypeUrls.LISTENER, "v1", "l1", List.of());
        assertRequest(server.next(), TypeUrls.ROUTE, "v1", "r1", List.of("inbound|8080||"));
        server.assertQuiet(QUIET);

        assertTrue(client.awaitFirstApply(Duration.ofSeconds(1)));
        assertEquals(1, seen.size());
        XdsResources set = seen.getFirst();
        assertEquals(List.of("static-backend", "outbound|80||httpbin"), set.clusters().stream().map(Cluster::getName).toList());
        assertEquals(List.of("virtualInbound"), set.listeners().stream().map(Listener::getName).toList());
        assertEquals(1, set.routes().size());
        assertEquals(1, set.endpoints().size());
        assertEquals("v1", set.version(TypeUrls.ROUTE));
    }

    @Test
    void aRefusedSetIsNackedWithTheLastAcceptedVersionAndTheHandlersMessage() throws Exception {
        reachV1();
        refuse = "v2";
        server.respond(TypeUrls.CLUSTER, "v2", "c2", staticCluster("static-backend", "127.17.0.9", 9090), edsWithService());

        DiscoveryRequest nack = server.next();
        assertRequest(nack, TypeUrls.CLUSTER, "v1", "c2", List.of());
        assertTrue(nack.hasErrorDetail());
        assertEquals(Code.INVALID_ARGUMENT_VALUE, nack.getErrorDetail().getCode());
        assertEquals("cluster static-backend: refusing v2", nack.getErrorDetail().getMessage());
        assertEquals("v1", client.applied().orElseThrow().version(TypeUrls.CLUSTER));
        assertEquals(8080, client.applied().orElseThrow().clusters().getFirst().getLoadAssignment()
                .getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress().getSocketAddress().getPortValue());

        server.respond(TypeUrls.CLUSTER, "v3", "c3", staticCluster("static-backend", "127.17.0.9", 9091), edsWithService());
        DiscoveryRequest ack = server.next();
        assertRequest(ack, TypeUrls.CLUSTER, "v3", "c3", List.of());
        assertFalse(ack.hasErrorDetail());
        assertEquals("v3", client.applied().orElseThrow().version(TypeUrls.CLUSTER));
        assertEquals("v1", client.applied().orElseThrow().version(TypeUrls.LISTENER), "each type keeps its own version");
    }

    @Test
    void anUndecodableResponseIsNackedWithoutReachingTheHandler() throws Exception {
        server.next();
        server.respond(DiscoveryResponse.newBuilder()
                .setTypeUrl(TypeUrls.CLUSTER)
                .setVersionInfo("v1")
                .setNonce("c1")
                .addResources(Any.pack(httpListener("oops", 80, "r")))
                .build());
        DiscoveryRequest nack = server.next();
        assertRequest(nack, TypeUrls.CLUSTER, "", "c1", List.of());
        assertTrue(nack.getErrorDetail().getMessage().contains("envoy.config.listener.v3.Listener"), nack.getErrorDetail().getMessage());
        assertTrue(seen.isEmpty());
    }

    @Test
    void aNewRouteNameIsRequestedAndTheListenerWaitsForIt() throws Exception {
        reachV1();
        server.respond(TypeUrls.LISTENER, "v2", "l2",
                httpListener("virtualInbound", 15006, "inbound|8080||"), httpListener("0.0.0.0_80", 15001, "80"));
        assertRequest(server.next(), TypeUrls.ROUTE, "v1", "r1", List.of("80", "inbound|8080||"));
        server.assertQuiet(QUIET); // LDS v2 is held until route "80" arrives
        assertEquals(1, seen.size());

        server.respond(TypeUrls.ROUTE, "v2", "r2", route("inbound|8080||", "static-backend"), route("80", "static-backend"));
        assertRequest(server.next(), TypeUrls.LISTENER, "v2", "l2", List.of());
        assertRequest(server.next(), TypeUrls.ROUTE, "v2", "r2", List.of("80", "inbound|8080||"));
        assertEquals(2, seen.size());
        assertEquals(2, seen.getLast().routes().size());
    }

    @Test
    void aBrokenStreamIsReopenedFromTheAcceptedVersions() throws Exception {
        reachV1();
        server.breakStream();
        server.acceptStream();
        // Envoy's resubscription: accepted version_info, no nonce, same names, same order.
        assertRequest(server.next(), TypeUrls.CLUSTER, "v1", "", List.of());
        assertRequest(server.next(), TypeUrls.ENDPOINT, "v1", "", List.of(EDS_SERVICE));
        assertRequest(server.next(), TypeUrls.LISTENER, "v1", "", List.of());
        assertRequest(server.next(), TypeUrls.ROUTE, "v1", "", List.of("inbound|8080||"));

        // The same version again is ACKed without bothering the handler.
        server.respond(TypeUrls.ROUTE, "v1", "0", route("inbound|8080||", "static-backend"));
        assertRequest(server.next(), TypeUrls.ROUTE, "v1", "0", List.of("inbound|8080||"));
        assertEquals(1, seen.size());
    }

    // ---- helpers ----

    private static Cluster edsWithService() {
        return edsCluster("outbound|80||httpbin").toBuilder()
                .setEdsClusterConfig(edsCluster("outbound|80||httpbin").getEdsClusterConfig().toBuilder().setServiceName(EDS_SERVICE))
                .build();
    }

    /** Walks the initial exchange to v1 of every type, all ACKed. */
    private void reachV1() throws Exception {
        server.next();
        server.respond(TypeUrls.CLUSTER, "v1", "c1", staticCluster("static-backend", "127.17.0.9", 8080), edsWithService());
        server.next();
        server.respond(TypeUrls.ENDPOINT, "v1", "e1", assignment(EDS_SERVICE, "127.17.0.3", 80));
        server.next();
        server.respond(TypeUrls.LISTENER, "v1", "l1", httpListener("virtualInbound", 15006, "inbound|8080||"));
        server.next();
        server.respond(TypeUrls.ROUTE, "v1", "r1", route("inbound|8080||", "static-backend"));
        for (int i = 0; i < 4; i++) {
            assertFalse(server.next().hasErrorDetail());
        }
        assertTrue(client.awaitFirstApply(Duration.ofSeconds(1)));
    }

    private static void assertRequest(DiscoveryRequest request, String type, String version, String nonce, List<String> names) {
        assertEquals(TypeUrls.shortName(type), TypeUrls.shortName(request.getTypeUrl()), request::toString);
        assertEquals(version, request.getVersionInfo(), "version_info");
        assertEquals(nonce, request.getResponseNonce(), "response_nonce");
        assertEquals(names, request.getResourceNamesList(), "resource_names");
        assertTrue(request.hasNode(), "node on every request, as java-control-plane's cache expects");
    }
}
