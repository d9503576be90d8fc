package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A Sidecar's egress listeners with a port, as Istio's sidecar.go (convertIstioListenerToWrapper, selectServices,
 * serviceMatchingListenerPort, collectImportedServices) and listener.go buildSidecarOutboundListeners build them: on a
 * listener's port only its hosts' services are reachable, in the port's protocol, with its VirtualServices; the catch-all
 * takes every other port; a service's cluster exists on each port some listener imports it on.
 */
class SidecarEgressPortTest {
    private static final String A = "a.default.svc.cluster.local";
    private static final String B = "b.default.svc.cluster.local";
    /** Two services on the same three ports: 9080 and 8000 HTTP, 5432 TCP. */
    private static final String SERVICES = """
            apiVersion: v1
            kind: Service
            metadata: {name: a, namespace: default}
            spec:
              clusterIP: 127.96.0.20
              ports: [{name: http, port: 9080}, {name: http-web, port: 8000}, {name: tcp-db, port: 5432}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: b, namespace: default}
            spec:
              clusterIP: 127.96.0.21
              ports: [{name: http, port: 9080}, {name: http-web, port: 8000}, {name: tcp-db, port: 5432}]
            """;

    private static String sidecar(String egress) {
        return """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  egress: %s
                  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
                """.formatted(egress);
    }

    /** Port 9080 for a, the catch-all for b. */
    private static final String A_ON_9080 = sidecar("[{port: {number: 9080, protocol: HTTP, name: http}, hosts: [./" + A
            + "]}, {hosts: [./" + B + "]}]");

    private ProxyResources translate(String... extra) {
        var objects = Fixtures.seed();
        for (String y : (SERVICES + "---\n" + String.join("---\n", extra)).split("---\n")) {
            objects.add(Fixtures.parseYaml(y));
        }
        MeshModel model = MeshModel.of(objects);
        return Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
    }

    @Test
    void aListenersHostsAreReachableOnItsPortOnlyAndTheCatchAllsOnTheOthers() {
        ProxyResources r = translate(A_ON_9080);
        assertEquals(List.of(A + ":9080", "block_all"), vhosts(r, "9080"), "b is not on the port a's listener took");
        assertEquals(List.of(B + ":8000", "block_all"), vhosts(r, "8000"), "a only on 9080");
        assertTrue(r.listener("0.0.0.0_9080").isPresent());
        assertTrue(r.listener("0.0.0.0_8000").isPresent());
        assertTrue(r.listener("127.96.0.21_5432").isPresent(), "b's TCP port, from the catch-all");
        assertFalse(r.listener("127.96.0.20_5432").isPresent(), "a is imported on 9080 only");

        assertTrue(r.cluster("outbound|9080||" + A).isPresent());
        assertFalse(r.cluster("outbound|8000||" + A).isPresent(), "serviceMatchingListenerPort: a on its listener's port");
        assertFalse(r.cluster("outbound|5432||" + A).isPresent());
        for (int port : List.of(9080, 8000, 5432)) {
            assertTrue(r.cluster("outbound|" + port + "||" + B).isPresent(), "the catch-all imports b on every port: " + port);
        }
        assertEquals(List.of(), egressWarnings(r));
    }

    @Test
    void withoutACatchAllOnlyTheListenersPortsAreThere() {
        ProxyResources r = translate(sidecar("[{port: {number: 9080, protocol: HTTP, name: http}, hosts: [./*]}]"));
        assertEquals(List.of(A + ":9080", B + ":9080", "block_all"), vhosts(r, "9080"));
        assertFalse(r.route("8000").isPresent(), "no listener imports a port 8000");
        assertFalse(r.route("80").isPresent());
        assertFalse(r.listener("127.96.0.20_5432").isPresent());
        assertFalse(r.cluster("outbound|8000||httpbin.default.svc.cluster.local").isPresent());
        assertTrue(r.cluster("outbound|9080||" + B).isPresent());
    }

    @Test
    void theListenersProtocolDecidesTcpOrHttpOnItsPort() throws Exception {
        ProxyResources r = translate(sidecar("[{port: {number: 9080, protocol: TCP, name: tcp}, hosts: [./" + A + "]}, "
                + "{port: {number: 5432, protocol: HTTP, name: http}, hosts: [./" + A + "]}, {hosts: [./" + B + "]}]"));
        Listener tcp = r.listener("127.96.0.20_9080").orElseThrow(() -> new AssertionError("a's 9080 spoken as TCP"));
        assertEquals("outbound|9080||" + A, tcp.getFilterChains(0).getFilters(0).getTypedConfig().unpack(TcpProxy.class)
                .getCluster());
        assertFalse(vhosts(r, "9080").contains(B + ":9080"), "the port's route config is its listener's (a's)");

        Listener http = r.listener("0.0.0.0_5432").orElseThrow(() -> new AssertionError("a's TCP port spoken as HTTP"));
        assertEquals("5432", http.getFilterChains(0).getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class)
                .getRds().getRouteConfigName());
        assertEquals(List.of(A + ":5432", "block_all"), vhosts(r, "5432"));
        assertEquals("outbound|5432||" + A, r.route("5432").orElseThrow().getVirtualHosts(0).getRoutes(0).getRoute()
                .getCluster());
        assertFalse(r.listener("127.96.0.20_5432").isPresent());
        assertTrue(r.listener("127.96.0.21_5432").isPresent(), "b's TCP listener on its own address is the catch-all's");
    }

    /** Istio locks the listeners made before the catch-all: a service it imports too adds nothing to them. */
    @Test
    void theCatchAllAddsNothingToAListenerAnotherMade() throws Exception {
        ProxyResources r = translate(sidecar("[{port: {number: 5432, protocol: TCP, name: tcp}, hosts: [./" + A + "]}, "
                + "{hosts: [./*]}]"));
        Listener a = r.listener("127.96.0.20_5432").orElseThrow();
        assertEquals(1, a.getFilterChainsCount());
        assertEquals("outbound|5432||" + A, a.getFilterChains(0).getFilters(0).getTypedConfig().unpack(TcpProxy.class)
                .getCluster());
        assertEquals(List.of(), r.warnings().stream().map(Object::toString).toList(), "no second chain to leave out");
        assertTrue(r.listener("127.96.0.21_5432").isPresent(), "b's own address is another listener: the catch-all's");
        assertEquals(List.of(A + ":9080", B + ":9080", "block_all"), vhosts(r, "9080"), "the catch-all's other ports");
    }

    @Test
    void eachListenerTakesTheVirtualServicesItsHostsImport() {
        String toA = """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: %s, namespace: default}
                spec:
                  hosts: [%s]
                  http:
                  - name: %s
                    route:
                    - destination: {host: %s, port: {number: %d}}
                """;
        ProxyResources r = translate(A_ON_9080, toA.formatted("a-vs", A, "a-vs", A, 8000),
                toA.formatted("b-vs", B, "b-vs", A, 8000));
        VirtualHost a = r.route("9080").orElseThrow().getVirtualHosts(0);
        assertEquals("a-vs", a.getRoutes(0).getName(), "a's listener imports a's VirtualService");
        VirtualHost b = r.route("8000").orElseThrow().getVirtualHosts(0);
        assertEquals("b-vs", b.getRoutes(0).getName(), "the catch-all imports b's");
        assertEquals("outbound|8000||" + A, b.getRoutes(0).getRoute().getCluster());
        assertTrue(r.cluster("outbound|8000||" + A).isPresent(), "the catch-all's VirtualService sends there: its cluster");

        r = translate(A_ON_9080, toA.formatted("a-vs", A, "a-vs", A, 8000));
        assertFalse(r.cluster("outbound|8000||" + A).isPresent(),
                "a VirtualService of a listener with a port adds its destination on that port only");
        assertFalse(r.route("8000").orElseThrow().getVirtualHosts(0).getRoutes(0).getName().equals("a-vs"));
    }

    @Test
    void listenersIstiosValidationRefusesOrTheSidecarsCannotServeAreLeftOutAndNamed() {
        ProxyResources r = translate(sidecar("[{hosts: [./" + B + "]}, {port: {number: 9080, protocol: HTTP}, hosts: [./"
                + A + "]}, {port: {number: 9080, protocol: TCP}, hosts: [./" + B + "]}, {port: {number: 53, protocol: UDP}, "
                + "hosts: [./*]}, {port: {number: 3128, protocol: HTTP_PROXY}, hosts: [./*]}, {port: {number: 8000}, "
                + "hosts: [./" + A + "], bind: 127.0.0.1}]"));
        String where = "Sidecar default/default: ";
        assertEquals(List.of(
                where + "egress[0] left out: the egress listener with empty port should be the last listener in the list",
                where + "egress[2] left out: sidecar: ports on IP bound listeners must be unique",
                where + "egress[3] left out: a UDP port has no outbound listener (as Istio)",
                where + "egress[4] left out: an HTTP_PROXY listener is not supported",
                where + "egress[5].bind is not supported; ignored",
                where + "egress[5].port.protocol is unset: Istio sniffs the protocol on port 8000, which SourceMesh does "
                        + "not; each service's own port protocol decides"), egressWarnings(r));
        assertEquals(List.of(A + ":9080", "block_all"), vhosts(r, "9080"));
        assertEquals(List.of(A + ":8000", "block_all"), vhosts(r, "8000"), "unset: a's own port, HTTP");
        assertFalse(r.cluster("outbound|9080||" + B).isPresent(), "b's listeners were left out");
    }

    private static List<String> vhosts(ProxyResources r, String route) {
        return r.route(route).orElseThrow(() -> new AssertionError("no route " + route)).getVirtualHostsList().stream()
                .map(VirtualHost::getName).toList();
    }

    private static List<String> egressWarnings(ProxyResources r) {
        return r.warnings().stream().map(Object::toString).filter(w -> w.contains("egress")).toList();
    }
}
