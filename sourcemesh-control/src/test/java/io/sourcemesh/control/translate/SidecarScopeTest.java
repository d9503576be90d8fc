package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Sidecar resource: egress hosts limit what a proxy sees; outboundTrafficPolicy decides the rest. */
class SidecarScopeTest {
    private static final String SIDECAR = """
            apiVersion: networking.istio.io/v1beta1
            kind: Sidecar
            metadata: {name: default, namespace: default}
            spec:
              egress:
              - hosts: ["./httpbin.default.svc.cluster.local"]
              outboundTrafficPolicy: {mode: REGISTRY_ONLY}
            """;

    private ProxyResources translate(String... extra) {
        var objects = Fixtures.seed();
        for (String y : extra) {
            objects.add(Fixtures.parseYaml(y));
        }
        MeshModel model = MeshModel.of(objects);
        return Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
    }

    @Test
    void registryOnlyWithEgressHosts() throws Exception {
        ProxyResources r = translate(SIDECAR);
        Golden.assertMatches("sidecar-registry-only", r.toJson());
        List<VirtualHost> vhosts = r.route("8000").orElseThrow().getVirtualHostsList();
        assertEquals(List.of("httpbin.default.svc.cluster.local:8000", "block_all"), vhosts.stream().map(VirtualHost::getName).toList());
        var blockAll = vhosts.get(1).getRoutes(0);
        assertEquals(502, blockAll.getDirectResponse().getStatus());
        assertTrue(r.cluster("outbound|8000||httpbin.default.svc.cluster.local").isPresent());
        assertFalse(r.cluster("outbound|80||sleep.default.svc.cluster.local").isPresent(), "hidden by the egress hosts");
        assertFalse(r.route("80").isPresent(), "no visible service on port 80");
        var catchAll = r.listener("virtualOutbound").orElseThrow().getFilterChainsList().stream()
                .filter(c -> c.getName().equals("virtualOutbound-catchall-tcp")).findFirst().orElseThrow();
        assertEquals("BlackHoleCluster", catchAll.getFilters(0).getTypedConfig().unpack(TcpProxy.class).getCluster());
        assertTrue(r.cluster("PassthroughCluster").isPresent());
    }

    @Test
    void allowAnyPassesUnknownDestinationsThrough() throws Exception {
        ProxyResources r = translate(SIDECAR.replace("REGISTRY_ONLY", "ALLOW_ANY"));
        assertEquals("allow_any", r.route("8000").orElseThrow().getVirtualHosts(1).getName());
        var catchAll = r.listener("virtualOutbound").orElseThrow().getFilterChainsList().stream()
                .filter(c -> c.getName().equals("virtualOutbound-catchall-tcp")).findFirst().orElseThrow();
        assertEquals("PassthroughCluster", catchAll.getFilters(0).getTypedConfig().unpack(TcpProxy.class).getCluster());
    }

    /** Written without a mode the policy is the proto's default, REGISTRY_ONLY; only a Sidecar without it takes the mesh's. */
    @Test
    void aPolicyWithoutAModeIsRegistryOnly() throws Exception {
        ProxyResources r = translate(SIDECAR.replace("{mode: REGISTRY_ONLY}", "{}"));
        assertEquals("block_all", r.route("8000").orElseThrow().getVirtualHosts(1).getName());
        var catchAll = r.listener("virtualOutbound").orElseThrow().getFilterChainsList().stream()
                .filter(c -> c.getName().equals("virtualOutbound-catchall-tcp")).findFirst().orElseThrow();
        assertEquals("BlackHoleCluster", catchAll.getFilters(0).getTypedConfig().unpack(TcpProxy.class).getCluster());
        ProxyResources without = translate(SIDECAR.replace("  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n", ""));
        assertEquals("allow_any", without.route("8000").orElseThrow().getVirtualHosts(1).getName());
    }

    /**
     * outboundTrafficPolicy.egressProxy under ALLOW_ANY: unknown destinations go to its cluster instead of the
     * PassthroughCluster (Istio's httproute.go allow_any route and listener_builder.go catch-all, GetDestinationCluster).
     */
    @Test
    void allowAnyWithAnEgressProxySendsUnknownDestinationsToIt() throws Exception {
        String egress = "outbound|80||istio-ingressgateway.istio-system.svc.cluster.local";
        ProxyResources r = translate(SIDECAR.replace("REGISTRY_ONLY", "ALLOW_ANY, egressProxy: {host: "
                + "istio-ingressgateway.istio-system.svc.cluster.local, port: {number: 80}}").replace(
                "[\"./httpbin.default.svc.cluster.local\"]",
                "[\"./httpbin.default.svc.cluster.local\", \"istio-system/istio-ingressgateway.istio-system.svc.cluster.local\"]"));
        VirtualHost allowAny = r.route("8000").orElseThrow().getVirtualHostsList().stream()
                .filter(v -> v.getName().equals("allow_any")).findFirst().orElseThrow();
        assertEquals(egress, allowAny.getRoutes(0).getRoute().getCluster());
        var catchAll = r.listener("virtualOutbound").orElseThrow().getFilterChainsList().stream()
                .filter(c -> c.getName().equals("virtualOutbound-catchall-tcp")).findFirst().orElseThrow();
        assertEquals(egress, catchAll.getFilters(0).getTypedConfig().unpack(TcpProxy.class).getCluster());
        assertTrue(r.cluster(egress).isPresent(), "the egress hosts import it");
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("egressProxy")), r.warnings().toString());
    }

    @Test
    void aWorkloadSelectorSidecarWinsOverTheNamespaceOne() {
        ProxyResources r = translate(SIDECAR, """
                apiVersion: networking.istio.io/v1beta1
                kind: Sidecar
                metadata: {name: sleep-only, namespace: default}
                spec:
                  workloadSelector: {labels: {app: sleep}}
                  egress:
                  - hosts: ["*/*"]
                """);
        assertTrue(r.cluster("outbound|80||sleep.default.svc.cluster.local").isPresent());
        assertEquals("allow_any", r.route("8000").orElseThrow().getVirtualHostsList().getLast().getName());
    }

    @Test
    void theServicesAnImportedVirtualServiceSendsToGetTheirClusters() {
        // Istio's SidecarScope adds the destinations of the VirtualServices it imports to the sidecar's services (clusters
        // only, no listener): sidecar.go collectImportedServices, serviceMatchingVirtualServicePorts;
        // push_context.go virtualServiceDestinationsFilteredBySourceNamespace. Without it the route's cluster is missing.
        String gateway = "istio-ingressgateway.istio-system.svc.cluster.local";
        ProxyResources r = translate(EGRESS_HERE, vs("default", "httpbin", gateway, "port: {number: 80}", ""));
        assertEquals("outbound|80||" + gateway, r.route("8000").orElseThrow().getVirtualHosts(0).getRoutes(0).getRoute()
                .getCluster());
        assertTrue(r.cluster("outbound|80||" + gateway).isPresent(), "the route's cluster, though istio-system is hidden");
        assertFalse(r.cluster("outbound|443||" + gateway).isPresent(), "only the port the route names");
        assertFalse(r.listener("127.96.0.2_443").isPresent(), "no listener: the egress hosts do not show the service");
        assertFalse(r.route("80").orElseThrow().getVirtualHostsList().stream().anyMatch(v -> v.getName().startsWith(gateway)));

        r = translate(EGRESS_HERE, vs("default", "httpbin", gateway, "", ""));
        assertTrue(r.cluster("outbound|443||" + gateway).isPresent(), "no port: every port of the service");

        r = translate(EGRESS_HERE, vs("default", "httpbin", gateway, "", "match: [{sourceNamespace: other}]"));
        assertFalse(r.cluster("outbound|80||" + gateway).isPresent(), "a route for another namespace's clients only");

        r = translate(EGRESS_HERE, vs("istio-system", "httpbin.default.svc.cluster.local", gateway, "", ""));
        assertFalse(r.cluster("outbound|80||" + gateway).isPresent(), "a VirtualService the egress hosts do not import");
    }

    @Test
    void aTildeEgressHostExcludesItsNamespaceOrHostFromTheImport() {
        // Istio's ~-prefixed egress hosts (pilot/pkg/model/sidecar.go convertIstioListenerToWrapper, selectServices;
        // virtualservice.go SelectVirtualServices): */* less ~istio-system/* is everything but istio-system.
        String gateway = "istio-ingressgateway.istio-system.svc.cluster.local";
        String sidecar = EGRESS_HERE.replace("[\"./*\"]", "[\"*/*\", \"~istio-system/*\"]");
        ProxyResources r = translate(sidecar, vs("istio-system", "httpbin.default.svc.cluster.local", gateway, "", ""));
        assertFalse(r.cluster("outbound|80||" + gateway).isPresent(), "istio-system's service is excluded");
        assertTrue(r.cluster("outbound|80||sleep.default.svc.cluster.local").isPresent());
        assertEquals("default", r.route("8000").orElseThrow().getVirtualHosts(0).getRoutes(0).getName(),
                "istio-system's VirtualService is not imported either");

        sidecar = EGRESS_HERE.replace("[\"./*\"]", "[\"*/*\", \"~/httpbin.default.svc.cluster.local\"]");
        r = translate(sidecar);
        assertFalse(r.route("8000").isPresent(), "~/host: that host in every namespace");
        assertTrue(r.route("80").isPresent());

        sidecar = EGRESS_HERE.replace("[\"./*\"]", "[\"./*\", \"~./sleep.default.svc.cluster.local\"]");
        r = translate(sidecar, vs("default", "sleep", "httpbin", "", ""));
        assertFalse(r.route("80").isPresent(), "~. is the proxy's namespace");
        assertTrue(r.route("8000").isPresent());
        assertFalse(r.cluster("outbound|80||sleep.default.svc.cluster.local").isPresent());

        sidecar = EGRESS_HERE.replace("[\"./*\"]", "[\"./*\", \"~./httpbin.default.svc.cluster.local\"]");
        r = translate(sidecar, vs("default", "httpbin, sleep", "httpbin", "", "match: [{uri: {prefix: /vs}}]"));
        assertEquals("/vs", r.route("80").orElseThrow().getVirtualHosts(0).getRoutes(0).getMatch().getPrefix(),
                "excluded by one host, imported by another");
    }

    @Test
    void ofTwoSidecarsForOneWorkloadTheOldestAppliesAndAnEmptySelectorSelectsEveryWorkload() {
        // Istio's initSidecarScopes sorts them by creation time (selectors first) and getSidecarScope takes the first
        // that fits; a workloadSelector without labels fits every workload (ValidateSidecar only warns about it).
        String older = SIDECAR.replace("name: default,", "name: zz-older, creationTimestamp: \"2026-01-01T00:00:00Z\",");
        String newer = SIDECAR.replace("name: default,", "name: aa-newer, creationTimestamp: \"2026-01-02T00:00:00Z\",")
                .replace("REGISTRY_ONLY", "ALLOW_ANY");
        assertEquals("block_all", translate(newer, older).route("8000").orElseThrow().getVirtualHostsList().getLast()
                .getName(), "the older one, whatever the names");
        String emptySelector = newer.replace("spec:\n", "spec:\n  workloadSelector: {labels: {}}\n");
        assertEquals("allow_any", translate(older, emptySelector).route("8000").orElseThrow().getVirtualHostsList()
                .getLast().getName(), "a selector, though empty, comes before a namespace-wide one");
    }

    private static final String EGRESS_HERE = """
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: default, namespace: default}
            spec:
              egress:
              - hosts: ["./*"]
            """;

    /** A VirtualService in {@code namespace} for {@code host} with one http route to {@code destination}. */
    private static String vs(String namespace, String host, String destination, String port, String match) {
        return """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: elsewhere, namespace: %s}
                spec:
                  hosts: [%s]
                  http:
                  - %s
                    route:
                    - destination: {host: %s, %s}
                """.formatted(namespace, host, match.isEmpty() ? "name: to-gateway" : match, destination, port);
    }
}
