package io.sourcemesh.control.envoyfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.translate.Names;
import io.sourcemesh.control.translate.ProxyResources;
import io.sourcemesh.control.translate.Translator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The match fields that narrow where a patch applies (Istio's rc_patch.go virtualHostMatch and
 * routeConfigurationMatch, listener_patch.go patchListenerFilters, policyattachment.go for targetRefs): each case
 * has a resource the match selects and one it does not, so ignoring the field fails the test.
 */
class EnvoyFilterMatchTest {
    private static final String HEADER = """
                    request_headers_to_add:
                    - header: {key: x-matched, value: "yes"}
                      append_action: OVERWRITE_IF_EXISTS_OR_ADD
            """;

    private record Run(ProxyResources before, PatchResult result) {}

    private static Run run(String proxyName, String efYaml) {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml", "seed/https-demo.yaml",
                "topology/gateway-secret.yaml");
        MeshModel bare = MeshModel.of(List.copyOf(objects));
        objects.add(Fixtures.parseYaml(efYaml));
        MeshModel model = MeshModel.of(objects);
        ProxyIdentity proxy = proxyName.equals("gateway") ? Fixtures.gateway(model) : Fixtures.sidecar(model, proxyName);
        ProxyResources before = Translator.create().translate(bare, proxy);
        return new Run(before, EnvoyFilterPatcher.apply(model, proxy, Translator.create().translate(model, proxy)));
    }

    private static String envoyFilter(String patches) {
        return """
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: ef, namespace: istio-system, creationTimestamp: "2026-01-01T00:00:00Z"}
                spec:
                  configPatches:
                """ + patches;
    }

    private static boolean hasMarker(VirtualHost vh) {
        return vh.getRequestHeadersToAddList().stream().anyMatch(h -> h.getHeader().getKey().equals("x-matched"));
    }

    private static boolean hasMarker(RouteConfiguration rc) {
        return rc.getRequestHeadersToAddList().stream().anyMatch(h -> h.getHeader().getKey().equals("x-matched"));
    }

    // Istio's rc_patch_test.go TestVirtualHostMatch: "domain name match" / "domain name mismatch".
    @Test
    void vhostDomainNameSelectsOnlyVirtualHostsHavingThatDomain() {
        Run probe = run("sleep", envoyFilter("    []\n"));
        VirtualHost target = probe.before().routes().stream().flatMap(rc -> rc.getVirtualHostsList().stream())
                .filter(vh -> vh.getDomainsCount() > 0).findFirst().orElseThrow();
        String domain = target.getDomains(target.getDomainsCount() - 1);
        Run r = run("sleep", envoyFilter("""
                  - applyTo: VIRTUAL_HOST
                    match:
                      context: SIDECAR_OUTBOUND
                      routeConfiguration: {vhost: {domainName: "%s"}}
                    patch:
                      operation: MERGE
                      value:
                """.formatted(domain) + HEADER));
        assertEquals(List.of(), r.result().failures());
        List<VirtualHost> all = r.result().resources().routes().stream()
                .flatMap(rc -> rc.getVirtualHostsList().stream()).toList();
        assertTrue(all.stream().anyMatch(vh -> !vh.getDomainsList().contains(domain)), "needs a vhost not matched");
        for (VirtualHost vh : all) {
            assertEquals(vh.getDomainsList().contains(domain), hasMarker(vh), vh.getName() + " " + vh.getDomainsList());
        }
    }

    @Test
    void vhostDomainNameThatNoVirtualHostHasMatchesNothing() {
        Run r = run("sleep", envoyFilter("""
                  - applyTo: VIRTUAL_HOST
                    match:
                      routeConfiguration: {vhost: {domainName: "nowhere.example"}}
                    patch:
                      operation: REMOVE
                """));
        assertEquals(List.of(), r.result().failures());
        assertEquals(r.before().routes(), r.result().resources().routes());
    }

    /** The seed gateway's HTTPS server is https.443.https.httpbin-gw-https.default; its HTTP one http.80. */
    @Test
    void routeConfigurationPortNameSelectsTheGatewayServerOfThatPortName() {
        Run r = run("gateway", envoyFilter("""
                  - applyTo: ROUTE_CONFIGURATION
                    match:
                      context: GATEWAY
                      routeConfiguration: {portName: https}
                    patch:
                      operation: MERGE
                      value:
                """ + HEADER));
        assertEquals(List.of(), r.result().failures());
        List<RouteConfiguration> routes = r.result().resources().routes();
        assertTrue(routes.size() >= 2, routes.stream().map(RouteConfiguration::getName).toList().toString());
        for (RouteConfiguration rc : routes) {
            String[] parts = rc.getName().split("\\.");
            boolean named = parts.length == 5 && parts[0].equals("https") && parts[2].equals("https");
            assertEquals(named, hasMarker(rc), rc.getName());
        }
        assertTrue(routes.stream().anyMatch(EnvoyFilterMatchTest::hasMarker));
    }

    @Test
    void routeConfigurationPortNameOfNoServerMatchesNothing() {
        Run r = run("gateway", envoyFilter("""
                  - applyTo: ROUTE_CONFIGURATION
                    match:
                      context: GATEWAY
                      routeConfiguration: {portName: grpc-admin}
                    patch:
                      operation: MERGE
                      value:
                """ + HEADER));
        assertEquals(List.of(), r.result().failures());
        assertTrue(r.result().resources().routes().stream().noneMatch(EnvoyFilterMatchTest::hasMarker));
    }

    @Test
    void routeConfigurationPortNameWithASidecarContextIsRefused() {
        PatchResult r = run("sleep", envoyFilter("""
                  - applyTo: ROUTE_CONFIGURATION
                    match:
                      context: SIDECAR_OUTBOUND
                      routeConfiguration: {portName: http}
                    patch:
                      operation: MERGE
                      value:
                """ + HEADER)).result();
        assertEquals(1, r.failures().size(), r.failures().toString());
        assertTrue(r.failures().get(0).reason().contains("portName applies only to the GATEWAY context"),
                r.failures().toString());
        assertTrue(r.resources().routes().stream().noneMatch(EnvoyFilterMatchTest::hasMarker));
    }

    @Test
    void listenerPortNameIsRefusedAsIstioNeverReadsIt() {
        PatchResult r = run("httpbin", envoyFilter("""
                  - applyTo: LISTENER
                    match:
                      listener: {portName: http}
                    patch:
                      operation: REMOVE
                """)).result();
        assertEquals(1, r.failures().size(), r.failures().toString());
        assertEquals(0, r.failures().get(0).patchIndex());
        assertTrue(r.failures().get(0).reason().contains("match.listener.portName 'http' is not implemented"),
                r.failures().toString());
        assertEquals(List.of(), r.applied());
        assertFalse(r.resources().listeners().isEmpty());
    }

    private static List<String> listenerFilterNames(Listener l) {
        return l.getListenerFiltersList().stream().map(ListenerFilter::getName).toList();
    }

    private static final String INSPECTOR = """
                      value:
                        name: test.inspector
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector
                """;

    /**
     * Istio's listener_patch_test.go: LISTENER_FILTER INSERT_AFTER/REMOVE matched by match.listener.listenerFilter.
     * The seed gateway's 443 listener has a TLS inspector (it terminates TLS), its 80 listener none.
     */
    @Test
    void listenerFilterInsertAfterGoesAfterTheNamedFilterOnlyWhereItIs() {
        Run r = run("gateway", envoyFilter("""
                  - applyTo: LISTENER_FILTER
                    match:
                      listener: {listenerFilter: %s}
                    patch:
                      operation: INSERT_AFTER
                """.formatted(Names.TLS_INSPECTOR) + INSPECTOR));
        assertEquals(List.of(), r.result().failures());
        int with = 0;
        int without = 0;
        for (Listener before : r.before().listeners()) {
            List<String> names = listenerFilterNames(before);
            List<String> after = listenerFilterNames(r.result().resources().listener(before.getName()).orElseThrow());
            int at = names.indexOf(Names.TLS_INSPECTOR);
            if (at < 0) {
                without++;
                assertEquals(names, after, before.getName());
            } else {
                with++;
                List<String> expected = new java.util.ArrayList<>(names);
                expected.add(at + 1, "test.inspector");
                assertEquals(expected, after, before.getName());
            }
        }
        assertTrue(with > 0 && without > 0, "with " + with + ", without " + without);
    }

    @Test
    void listenerFilterRemoveRemovesOnlyTheNamedFilter() {
        Run r = run("gateway", envoyFilter("""
                  - applyTo: LISTENER_FILTER
                    match:
                      listener: {listenerFilter: %s}
                    patch:
                      operation: REMOVE
                """.formatted(Names.TLS_INSPECTOR)));
        assertEquals(List.of(), r.result().failures());
        boolean removed = false;
        for (Listener before : r.before().listeners()) {
            List<String> expected = listenerFilterNames(before).stream()
                    .filter(n -> !n.equals(Names.TLS_INSPECTOR)).toList();
            removed |= expected.size() != before.getListenerFiltersCount();
            assertEquals(expected, listenerFilterNames(r.result().resources().listener(before.getName()).orElseThrow()));
        }
        assertTrue(removed);
    }

    @Test
    void listenerFilterOnAnotherApplyToIsRefused() {
        PatchResult r = run("httpbin", envoyFilter("""
                  - applyTo: FILTER_CHAIN
                    match:
                      listener: {listenerFilter: %s}
                    patch:
                      operation: REMOVE
                """.formatted(Names.TLS_INSPECTOR))).result();
        assertEquals(1, r.failures().size(), r.failures().toString());
        assertTrue(r.failures().get(0).reason().contains("listenerFilter only selects the listener filter of a "
                + "LISTENER_FILTER patch, not a FILTER_CHAIN patch"), r.failures().toString());
    }

    // Istio's policyattachment.go ShouldAttachPolicy, as its policyattachment_test.go cases for a Gateway API gateway.
    @Test
    void targetRefsAttachOnlyToTheGatewayApiGatewayNamed() {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: targeted, namespace: istio-system}
                spec:
                  targetRefs:
                  - {group: gateway.networking.k8s.io, kind: Gateway, name: public}
                  configPatches: []
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: other-kind, namespace: istio-system}
                spec:
                  targetRefs:
                  - {group: "", kind: Service, name: public}
                  configPatches: []
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: untargeted, namespace: istio-system}
                spec:
                  configPatches: []
                """));
        MeshModel model = MeshModel.of(objects);
        IstioConfig targeted = byName(model, "targeted");
        IstioConfig otherKind = byName(model, "other-kind");
        IstioConfig untargeted = byName(model, "untargeted");
        ProxyIdentity gw = Fixtures.gateway(model);
        assertEquals("istio-system", gw.namespace(), "the fixture gateway lives beside the EnvoyFilters");
        ProxyIdentity publicGw = withLabel(gw, "gateway.networking.k8s.io/gateway-name", "public");
        ProxyIdentity privateGw = withLabel(gw, "gateway.networking.k8s.io/gateway-name", "private");

        assertTrue(EnvoyFilterPatcher.attaches(targeted, publicGw));
        assertFalse(EnvoyFilterPatcher.attaches(targeted, privateGw));
        assertFalse(EnvoyFilterPatcher.attaches(targeted, gw), "not a Gateway API gateway");
        assertFalse(EnvoyFilterPatcher.attaches(targeted, Fixtures.sidecar(model, "httpbin")), "a sidecar");
        assertFalse(EnvoyFilterPatcher.attaches(otherKind, publicGw), "Service targets are for waypoints");
        assertTrue(EnvoyFilterPatcher.attaches(untargeted, publicGw), "selector fallback, on by default in Istio");
        assertTrue(EnvoyFilterPatcher.attaches(untargeted, gw));
        assertEquals(List.of("istio-system/untargeted"), EnvoyFilterPatcher.selected(model, gw).stream()
                .map(IstioConfig::key).toList());
    }

    @Test
    void targetRefsFromAnotherNamespaceNeverAttach() {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: elsewhere, namespace: default}
                spec:
                  targetRefs:
                  - {group: gateway.networking.k8s.io, kind: Gateway, name: public, namespace: istio-system}
                  configPatches: []
                """));
        MeshModel model = MeshModel.of(objects);
        ProxyIdentity publicGw = withLabel(Fixtures.gateway(model), "gateway.networking.k8s.io/gateway-name", "public");
        assertFalse(EnvoyFilterPatcher.attaches(byName(model, "elsewhere"), publicGw));
    }

    private static IstioConfig byName(MeshModel model, String name) {
        return model.envoyFilters().stream().filter(ef -> ef.name().equals(name)).findFirst().orElseThrow();
    }

    private static ProxyIdentity withLabel(ProxyIdentity p, String key, String value) {
        Map<String, String> labels = new HashMap<>(p.labels());
        labels.put(key, value);
        return new ProxyIdentity(p.type(), p.ip(), p.podName(), p.namespace(), labels, p.metadata(),
                p.interceptionMode());
    }
}
