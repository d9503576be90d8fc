package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which mesh VirtualService shapes a service's outbound virtual host on a sidecar, as Istio chooses: wildcard hosts, the
 * most specific host, the first of several naming one host, exportTo (pilot/pkg/networking/core/httproute.go
 * BuildSidecarOutboundVirtualHosts, pilot/pkg/networking/core/route/route.go BuildSidecarVirtualHostWrapper and
 * separateVSHostsAndServices, pilot/pkg/model/sidecar.go computeWildcardHostVirtualServiceIndex,
 * pilot/pkg/model/virtualservice.go SelectVirtualServices, pilot/pkg/model/push_context.go initVirtualServices).
 */
class SidecarVirtualServicesTest {
    private static final String HTTPBIN = "httpbin.default.svc.cluster.local:8000";
    private static final String SLEEP = "sleep.default.svc.cluster.local:80";
    private static final String GATEWAY = "istio-ingressgateway.istio-system.svc.cluster.local:80";
    private final Translator translator = Translator.create();

    @Test
    void aWildcardHostShapesEveryServiceItMatches() {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(abort("all-default", "default", "2026-01-01T00:00:00Z", 418, "*.default.svc.cluster.local"));
        ProxyResources r = sleep(objects);
        assertEquals(418, abortStatus(vhost(r, "8000", HTTPBIN)), "httpbin is in default");
        assertEquals(418, abortStatus(vhost(r, "80", SLEEP)), "so is sleep");
        assertTrue(defaultRoute(vhost(r, "80", GATEWAY)), "istio-system's service is not matched");
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    @Test
    void theMostSpecificHostWinsWhateverTheAge() {
        List<ObjectNode> objects = Fixtures.seed();
        // the oldest is the least specific: age orders only VirtualServices naming a service with the same host
        objects.add(abort("everything", "default", "2026-01-01T00:00:00Z", 401, "*"));
        objects.add(abort("default-ns", "default", "2026-01-02T00:00:00Z", 402, "*.default.svc.cluster.local"));
        objects.add(abort("httpbin", "default", "2026-01-03T00:00:00Z", 403, "httpbin"));
        ProxyResources r = sleep(objects);
        assertEquals(403, abortStatus(vhost(r, "8000", HTTPBIN)), "an exact host beats any wildcard");
        assertEquals(402, abortStatus(vhost(r, "80", SLEEP)), "the longer wildcard beats *");
        assertEquals(401, abortStatus(vhost(r, "80", GATEWAY)), "* is all that names istio-system's service");
        assertTrue(r.warnings().isEmpty(), "a wildcard that is not the most specific is no conflict: " + r.warnings());
    }

    @Test
    void anExactHostWithoutHttpRoutesStillKeepsAWildcardFromTheService() {
        // Istio's wildcard index counts every VirtualService, http routes or not (sidecar.go
        // computeWildcardHostVirtualServiceIndex), so the wildcard one does not claim httpbin and the tcp-only one builds
        // no virtual host: httpbin keeps its default route.
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(abort("all-default", "default", "2026-01-01T00:00:00Z", 418, "*.default.svc.cluster.local"));
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: httpbin-tcp, namespace: default, creationTimestamp: "2026-01-02T00:00:00Z"}
                spec:
                  hosts: [httpbin]
                  tcp:
                  - route:
                    - destination: {host: httpbin}
                """));
        ProxyResources r = sleep(objects);
        assertTrue(defaultRoute(vhost(r, "8000", HTTPBIN)));
        assertEquals(418, abortStatus(vhost(r, "80", SLEEP)), "sleep is still the wildcard's");
    }

    @Test
    void ofTwoNamingOneHostTheOldestShapesItAndTheOtherIsNamed() {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(abort("newer", "default", "2026-01-02T00:00:00Z", 402, "httpbin"));
        objects.add(abort("older", "default", "2026-01-01T00:00:00Z", 401, "httpbin.default.svc.cluster.local"));
        ProxyResources r = sleep(objects);
        assertEquals(401, abortStatus(vhost(r, "8000", HTTPBIN)), "no merge: the oldest's routes only");
        assertEquals(1, vhost(r, "8000", HTTPBIN).getRoutesCount());
        assertEquals(List.of("VirtualService default/newer: left out of the sidecars' routes for " + HTTPBIN
                + ": VirtualService default/older shapes that host (Istio takes the first for a sidecar, the oldest of the "
                + "same visibility, and merges none; IST0109)"), r.warnings().stream().map(Object::toString).toList());
    }

    @Test
    void ofTwoWithTheSameWildcardHostTheFirstShapesItsServicesAndTheOtherIsNamed() {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(abort("newer", "default", "2026-01-02T00:00:00Z", 402, "*.default.svc.cluster.local"));
        objects.add(abort("older", "default", "2026-01-01T00:00:00Z", 401, "*.default.svc.cluster.local"));
        ProxyResources r = sleep(objects);
        assertEquals(401, abortStatus(vhost(r, "8000", HTTPBIN)), "Istio's wildcard index keeps the first per host");
        assertEquals(401, abortStatus(vhost(r, "80", SLEEP)));
        assertEquals(List.of(HTTPBIN, SLEEP), r.warnings().stream().filter(w -> w.resource().equals("VirtualService default/newer"))
                .map(w -> w.message().replaceAll("left out of the sidecars' routes for (\\S+): .*", "$1")).sorted().toList());
    }

    @Test
    void anOlderVirtualServiceWithNoRouteForThisProxyLeavesTheHostToTheNext() {
        List<ObjectNode> objects = Fixtures.seed();
        ObjectNode older = abort("older", "default", "2026-01-01T00:00:00Z", 401, "httpbin");
        ((ObjectNode) older.path("spec").path("http").get(0)).putArray("match").addObject().putObject("sourceLabels")
                .put("app", "other");
        objects.add(older);
        objects.add(abort("newer", "default", "2026-01-02T00:00:00Z", 402, "httpbin"));
        ProxyResources r = sleep(objects);
        assertEquals(402, abortStatus(vhost(r, "8000", HTTPBIN)), "Istio builds no virtual host from a VirtualService "
                + "without routes for the proxy, so the name is still free");
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    @Test
    void exportToLimitsWhichNamespacesSidecarsItShapes() {
        List<ObjectNode> objects = withClientIn("other");
        ObjectNode vs = abort("private", "default", "2026-01-01T00:00:00Z", 418, "httpbin");
        ((ObjectNode) vs.path("spec")).putArray("exportTo").add(".");
        objects.add(vs);
        assertEquals(418, abortStatus(vhost(sleep(objects), "8000", HTTPBIN)), "exported to its own namespace");
        assertTrue(defaultRoute(vhost(client(objects), "8000", HTTPBIN)), "not to other's sidecars");

        ((ObjectNode) vs.path("spec")).putArray("exportTo").add("other");
        assertTrue(defaultRoute(vhost(sleep(objects), "8000", HTTPBIN)), "exported to other only");
        assertEquals(418, abortStatus(vhost(client(objects), "8000", HTTPBIN)));

        ((ObjectNode) vs.path("spec")).putArray("exportTo").add("~");
        assertTrue(defaultRoute(vhost(sleep(objects), "8000", HTTPBIN)), "~: no one");
        ((ObjectNode) vs.path("spec")).putArray("exportTo").add("other").add("*");
        assertEquals(418, abortStatus(vhost(sleep(objects), "8000", HTTPBIN)), "*: everyone");
    }

    @Test
    void aGatewaySeesAVirtualServiceOnlyFromTheNamespacesItIsExportedTo() {
        // Istio's gateways take their VirtualServices from the same index, by the gateway pod's namespace
        // (push_context.go VirtualServicesForGateway): istio-system here, the VirtualService in default.
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml");
        ObjectNode vs = objects.stream().filter(o -> o.path("kind").asText().equals("VirtualService")).findFirst().orElseThrow();
        ((ObjectNode) vs.path("spec")).putArray("exportTo").add(".");
        assertEquals(List.of("blackhole:80"), gatewayHosts(objects), "not exported to istio-system: nothing bound, 404");
        ((ObjectNode) vs.path("spec")).putArray("exportTo").add("istio-system");
        assertEquals(List.of("*:80"), gatewayHosts(objects));
    }

    @Test
    void aGatewayTakesAVirtualServiceOfItsOwnNamespaceBeforeAnOlderPublicOne() {
        // push_context.go VirtualServicesForGateway: private to the gateway pod's namespace, exported, then public; each
        // VirtualService's routes are appended to the host's virtual host in that order (gateway.go).
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml");
        ObjectNode pub = objects.stream().filter(o -> o.path("kind").asText().equals("VirtualService")).findFirst()
                .orElseThrow();
        ((ObjectNode) pub.path("metadata")).put("creationTimestamp", "2026-01-01T00:00:00Z");
        ((ObjectNode) pub.path("spec").path("http").get(0)).putArray("match").addObject().putObject("uri")
                .put("prefix", "/public");
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: mine, namespace: istio-system, creationTimestamp: "2026-01-02T00:00:00Z"}
                spec:
                  hosts: ["*"]
                  gateways: [default/httpbin-gw-httpprotocol]
                  exportTo: ["."]
                  http:
                  - match: [{uri: {prefix: /private}}]
                    route:
                    - destination: {host: httpbin.default.svc.cluster.local, port: {number: 8000}}
                """));
        MeshModel model = MeshModel.of(objects);
        VirtualHost vh = translator.translate(model, Fixtures.gateway(model)).route("http.80").orElseThrow()
                .getVirtualHosts(0);
        assertEquals(List.of("/private", "/public"), vh.getRoutesList().stream().map(r -> r.getMatch().getPrefix())
                .toList());
    }

    private List<String> gatewayHosts(List<ObjectNode> objects) {
        MeshModel model = MeshModel.of(objects);
        return translator.translate(model, Fixtures.gateway(model)).route("http.80").orElseThrow().getVirtualHostsList()
                .stream().map(VirtualHost::getName).toList();
    }

    @Test
    void aVirtualServiceOfTheClientsOwnNamespaceComesBeforeAnOlderPublicOne() {
        List<ObjectNode> objects = withClientIn("other");
        objects.add(abort("public", "default", "2026-01-01T00:00:00Z", 401, "httpbin.default.svc.cluster.local"));
        ObjectNode mine = abort("mine", "other", "2026-01-02T00:00:00Z", 402, "httpbin.default.svc.cluster.local");
        ((ObjectNode) mine.path("spec")).putArray("exportTo").add(".");
        objects.add(mine);
        ProxyResources r = client(objects);
        assertEquals(402, abortStatus(vhost(r, "8000", HTTPBIN)), "Istio's index: private, then exported, then public");
        assertEquals(401, abortStatus(vhost(sleep(objects), "8000", HTTPBIN)), "default's sidecars do not see it");
    }

    @Test
    void aShortHostIsTheServiceOfTheVirtualServicesNamespace() {
        List<ObjectNode> objects = withClientIn("other");
        objects.add(abort("elsewhere", "other", "2026-01-01T00:00:00Z", 418, "httpbin"));
        assertTrue(defaultRoute(vhost(client(objects), "8000", HTTPBIN)), "httpbin in other is httpbin.other.svc.cluster.local");
    }

    @Test
    void aHostNamingNoServiceIsNamedAsNotBuilt() {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(abort("outside", "default", "2026-01-01T00:00:00Z", 418, "httpbin", "bookinfo.example.com", "*.example.org"));
        ProxyResources r = sleep(objects);
        assertEquals(418, abortStatus(vhost(r, "8000", HTTPBIN)), "the host that is a service is shaped");
        assertEquals(List.of("VirtualService default/outside: host bookinfo.example.com names no service in the registry; "
                        + "the sidecars build no route for it (Istio's serve it on port 80 only)",
                "VirtualService default/outside: host *.example.org names no service in the registry; the sidecars build "
                        + "no route for it (Istio's serve it on port 80 only)"),
                r.warnings().stream().map(Object::toString).toList());
        assertTrue(r.route("80").orElseThrow().getVirtualHostsList().stream()
                .noneMatch(v -> v.getDomainsList().contains("bookinfo.example.com")), "no virtual host for it");
    }

    @Test
    void theRouteConfigIgnoresTheHostsPortAsIstiosSidecarsDo() {
        ProxyResources r = sleep(Fixtures.seed());
        assertTrue(r.route("8000").orElseThrow().getIgnorePortInHostMatching(), "Host httpbin:8000 is httpbin's");
        assertTrue(r.route("80").orElseThrow().getIgnorePortInHostMatching());
    }

    @Test
    void theSidecarResourcesEgressHostsLimitWhichVirtualServicesItImports() {
        // Istio's SidecarScope imports a VirtualService only when an egress host of its namespace (or of */) matches one
        // of its hosts (pilot/pkg/model/sidecar.go convertIstioListenerToWrapper, virtualservice.go SelectVirtualServices):
        // ./* imports default's, not istio-system's, even for a service the egress hosts show.
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(egress("./*"));
        objects.add(abort("from-istio-system", "istio-system", "2026-01-01T00:00:00Z", 418,
                "httpbin.default.svc.cluster.local"));
        assertTrue(defaultRoute(vhost(sleep(objects), "8000", HTTPBIN)), "istio-system's VirtualService is not imported");
        objects = Fixtures.seed();
        objects.add(egress("./*", "istio-system/*"));
        objects.add(abort("from-istio-system", "istio-system", "2026-01-01T00:00:00Z", 418,
                "httpbin.default.svc.cluster.local"));
        assertEquals(418, abortStatus(vhost(sleep(objects), "8000", HTTPBIN)), "imported by istio-system/*");
    }

    @Test
    void aVirtualServiceLeftOutByTheEgressHostsIsNotTheMostSpecific() {
        // The most specific host is chosen among the imported VirtualServices only (sidecar.go
        // computeWildcardHostVirtualServiceIndex over the egress listener's virtualServices).
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(egress("./*"));
        objects.add(abort("exact-elsewhere", "istio-system", "2026-01-01T00:00:00Z", 403,
                "httpbin.default.svc.cluster.local"));
        objects.add(abort("wildcard-here", "default", "2026-01-02T00:00:00Z", 402, "*.default.svc.cluster.local"));
        ProxyResources r = sleep(objects);
        assertEquals(402, abortStatus(vhost(r, "8000", HTTPBIN)), "the exact host is not imported: the wildcard shapes it");
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    @Test
    void anEgressHostImportsAVirtualServiceWhoseHostMatchesItEitherWay() {
        // hostClassification.VSMatches: host.Name.Matches, so an exact egress host imports a wildcard VirtualService
        // covering it, and a wildcard egress host a VirtualService for * ; a host of another namespace imports nothing.
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(egress("./httpbin.default.svc.cluster.local"));
        objects.add(abort("wildcard", "default", "2026-01-01T00:00:00Z", 402, "*.default.svc.cluster.local"));
        assertEquals(402, abortStatus(vhost(sleep(objects), "8000", HTTPBIN)));
        objects = Fixtures.seed();
        objects.add(egress("*/*.svc.cluster.local"));
        objects.add(abort("everything", "istio-system", "2026-01-01T00:00:00Z", 401, "*"));
        assertEquals(401, abortStatus(vhost(sleep(objects), "8000", HTTPBIN)));
        objects = Fixtures.seed();
        objects.add(egress("./httpbin.default.svc.cluster.local", "istio-system/sleep.default.svc.cluster.local"));
        objects.add(abort("both", "default", "2026-01-01T00:00:00Z", 418, "sleep"));
        assertTrue(defaultRoute(vhost(sleep(objects), "8000", HTTPBIN)));
        assertTrue(sleep(objects).route("80").isEmpty(), "sleep is not visible: default/sleep is not an egress host");
    }

    /** The default namespace's Sidecar with one egress listener of {@code hosts}. */
    private static ObjectNode egress(String... hosts) {
        return Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  egress:
                  - hosts: [%s]
                """.formatted(String.join(", ", List.of(hosts).stream().map(h -> "\"" + h + "\"").toList())));
    }

    private ProxyResources sleep(List<ObjectNode> objects) {
        MeshModel model = MeshModel.of(objects);
        return translator.translate(model, Fixtures.sidecar(model, "sleep"));
    }

    private ProxyResources client(List<ObjectNode> objects) {
        MeshModel model = MeshModel.of(objects);
        return translator.translate(model, ProxyIdentity.sidecar(Fixtures.pod(model, "client")));
    }

    /** The seed cluster and a sidecar-injected pod {@code client} in {@code namespace}. */
    private static List<ObjectNode> withClientIn(String namespace) {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed());
        objects.add(Fixtures.parseYaml("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: client
                  namespace: %s
                  labels: {app: client}
                  annotations:
                    sidecar.istio.io/status: '{"containers":["istio-proxy"]}'
                spec:
                  nodeName: node-1
                  containers:
                  - {name: client, image: curlimages/curl}
                  - {name: istio-proxy, image: sourcemesh/proxy}
                status:
                  phase: Running
                  podIP: 127.17.0.9
                  conditions:
                  - {type: Ready, status: "True"}
                """.formatted(namespace)));
        return objects;
    }

    /** A mesh VirtualService answering every request with {@code status}. */
    private static ObjectNode abort(String name, String namespace, String created, int status, String... hosts) {
        return Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: %s, namespace: %s, creationTimestamp: "%s"}
                spec:
                  hosts: [%s]
                  http:
                  - fault: {abort: {httpStatus: %d, percentage: {value: 100}}}
                    route:
                    - destination: {host: httpbin.default.svc.cluster.local}
                """.formatted(name, namespace, created, String.join(", ", List.of(hosts).stream()
                        .map(h -> "\"" + h + "\"").toList()), status));
    }

    private static VirtualHost vhost(ProxyResources r, String route, String name) {
        return r.route(route).orElseThrow().getVirtualHostsList().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no virtual host " + name + " in route " + route));
    }

    /** The abort status of the virtual host's first route's fault filter config, 0 for none. */
    private static int abortStatus(VirtualHost vh) {
        Route route = vh.getRoutes(0);
        return route.getTypedPerFilterConfigMap().values().stream().findFirst().map(any -> {
            try {
                return any.unpack(io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.class).getAbort()
                        .getHttpStatus();
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }).orElse(0);
    }

    /** Istio's default route for a service without a VirtualService. */
    private static boolean defaultRoute(VirtualHost vh) {
        return vh.getRoutesCount() == 1 && vh.getRoutes(0).getName().equals("default") && abortStatus(vh) == 0;
    }
}
