package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * VirtualService delegation as Istio merges it (pilot/pkg/model/virtualservice_controller.go mergeVirtualServices,
 * virtualservice.go MergeHTTPRoutes; the cases of its virtualservice_test.go TestMergeVirtualServices and
 * TestHasConflict): the delegate's routes take the root route's place, narrowed by its matches.
 */
class VirtualServiceDelegatesTest {
    private static final String HTTPBIN = "httpbin.default.svc.cluster.local:8000";
    private final Translator translator = Translator.create();

    private static final String ROOT = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: root, namespace: default}
            spec:
              hosts: [httpbin]
              http:
              - name: api
                match: [{uri: {prefix: /api}}]
                delegate: {name: api, namespace: team}
                timeout: 3s
                headers: {request: {set: {x-root: r}}}
              - name: rest
                route: [{destination: {host: httpbin}}]
            """;

    @Test
    void theDelegatesRoutesReplaceTheRootRouteNarrowedByItsMatchAndInheritingItsSettings() {
        ProxyResources r = sleep(Fixtures.parseYaml(ROOT), delegate("team", null, """
                - name: v1
                  match: [{uri: {prefix: /api/v1}, headers: {x-team: {exact: a}}}]
                  route: [{destination: {host: httpbin.default.svc.cluster.local}}]
                  timeout: 5s
                - name: elsewhere
                  match: [{uri: {prefix: /other}}]
                  route: [{destination: {host: httpbin.default.svc.cluster.local}}]
                - route: [{destination: {host: httpbin.default.svc.cluster.local}}]
                """));
        VirtualHost vh = vhost(r);
        assertEquals(List.of("api-v1", "api", "rest"), vh.getRoutesList().stream().map(Route::getName).toList());
        Route v1 = vh.getRoutes(0);
        assertEquals("/api/v1", v1.getMatch().getPrefix(), "the delegate's narrower match");
        assertEquals("x-team", v1.getMatch().getHeaders(0).getName());
        assertEquals(5, v1.getRoute().getTimeout().getSeconds(), "the delegate's own timeout wins");
        assertEquals("x-root", v1.getRequestHeadersToAdd(0).getHeader().getKey(), "the root's headers where it sets none");
        Route plain = vh.getRoutes(1);
        assertEquals("/api", plain.getMatch().getPrefix(), "a delegate route without a match takes the root's");
        assertEquals(3, plain.getRoute().getTimeout().getSeconds(), "and its timeout");
        assertEquals("outbound|8000||httpbin.default.svc.cluster.local", plain.getRoute().getCluster());
        assertEquals(List.of("VirtualService default/root: http[0]: VirtualService team/api http[1] has a match that fits "
                + "none of the root route's matches; that route is left out, as Istio"), warnings(r));
    }

    @Test
    void aDelegatesShortHostIsOfItsOwnNamespace() {
        ObjectNode root = Fixtures.parseYaml(ROOT.replace("namespace: team", "namespace: default"));
        ProxyResources r = sleep(root, delegate("default", null, """
                - route: [{destination: {host: httpbin}}]
                """));
        assertEquals("outbound|8000||httpbin.default.svc.cluster.local", vhost(r).getRoutes(0).getRoute().getCluster());
        ObjectNode elsewhere = Fixtures.parseYaml(ROOT);
        r = sleep(elsewhere, delegate("team", null, """
                - route: [{destination: {host: httpbin, port: {number: 8000}}}]
                """));
        assertEquals("outbound|8000||httpbin.team.svc.cluster.local", vhost(r).getRoutes(0).getRoute().getCluster(),
                "team's httpbin, not the root's");
    }

    @Test
    void aMissingOrUnexportedDelegateLeavesOnlyItsRouteOut() {
        ProxyResources missing = sleep(Fixtures.parseYaml(ROOT));
        assertEquals(List.of("rest"), vhost(missing).getRoutesList().stream().map(Route::getName).toList());
        assertEquals(List.of("VirtualService default/root: http[0] delegates to VirtualService team/api, which does not exist "
                + "or has hosts (a delegate has none); the route is left out, as Istio"), warnings(missing));
        ProxyResources hidden = sleep(Fixtures.parseYaml(ROOT), delegate("team", "[.]", """
                - route: [{destination: {host: httpbin.default.svc.cluster.local}}]
                """));
        assertEquals(List.of("rest"), vhost(hidden).getRoutesList().stream().map(Route::getName).toList());
        assertEquals(List.of("VirtualService default/root: http[0] delegates to VirtualService team/api, whose exportTo does "
                + "not include namespace default; the route is left out, as Istio"), warnings(hidden));
        ProxyResources shown = sleep(Fixtures.parseYaml(ROOT), delegate("team", "[default]", """
                - route: [{destination: {host: httpbin.default.svc.cluster.local}}]
                """));
        assertEquals(List.of("api", "rest"), vhost(shown).getRoutesList().stream().map(Route::getName).toList());
    }

    @Test
    void aDelegateIsSeenByNoProxyItselfAndOneThatDelegatesAgainIsLeftOut() {
        ObjectNode nested = delegate("team", null, """
                - delegate: {name: deeper, namespace: team}
                - name: ok
                  route: [{destination: {host: httpbin.default.svc.cluster.local}}]
                """);
        ProxyResources r = sleep(Fixtures.parseYaml(ROOT), nested);
        assertEquals(List.of("api-ok", "rest"), vhost(r).getRoutesList().stream().map(Route::getName).toList());
        assertEquals(List.of("VirtualService default/root: http[0]: VirtualService team/api http[0] delegates again, which "
                + "Istio refuses; that route is left out"), warnings(r));
    }

    /** The merged routes with a regex rewrite, pinned (and, as every golden, loaded by the proxy). */
    @Test
    void delegatedRoutesWithARegexRewrite() {
        MeshModel model = MeshModel.of(Fixtures.seed("topology/delegate-rewrite.yaml"));
        ProxyResources r = translator.translate(model, Fixtures.sidecar(model, "sleep"));
        Golden.assertMatches("delegate-rewrite-sidecar", r.toJson());
        List<Route> routes = vhost(r).getRoutesList();
        assertEquals(List.of("api-versioned", "api-headers", "rest"), routes.stream().map(Route::getName).toList());
        Route versioned = routes.get(0);
        assertEquals("^/api/v1/(.*)$", versioned.getRoute().getRegexRewrite().getPattern().getRegex());
        assertEquals("/anything/\\1", versioned.getRoute().getRegexRewrite().getSubstitution());
        assertEquals("", versioned.getRoute().getPrefixRewrite());
        assertEquals(5, versioned.getRoute().getTimeout().getSeconds(), "the root route's timeout");
        assertEquals("/headers", routes.get(1).getRoute().getPrefixRewrite());
        assertFalse(routes.get(1).getRoute().hasRegexRewrite());
        assertEquals(List.of(), warnings(r));
        assertEquals(Cluster.LbPolicy.RANDOM, r.cluster("outbound|8000||httpbin.default.svc.cluster.local").orElseThrow()
                .getLbPolicy(), "the rule selecting sleep");
    }

    /** Istio's TestHasConflict and stringMatchConflict: a delegate match must fit inside the root's. */
    @Test
    void matchConflictsAsIstiosHasConflict() {
        assertFalse(conflict("{uri: {prefix: /api}}", "{uri: {prefix: /api/v1}}"));
        assertTrue(conflict("{uri: {prefix: /api/v1}}", "{uri: {prefix: /api}}"), "leaf /api is not in root /api/v1");
        assertFalse(conflict("{uri: {prefix: /api}}", "{uri: {exact: /api/x}}"));
        assertTrue(conflict("{uri: {exact: /api}}", "{uri: {prefix: /api}}"));
        assertTrue(conflict("{uri: {exact: /a}}", "{uri: {exact: /b}}"));
        assertTrue(conflict("{uri: {regex: /a.*}}", "{uri: {prefix: /a}}"), "a regex fits nothing else");
        assertTrue(conflict("{uri: {prefix: /a}}", "{uri: {regex: /a.*}}"));
        assertFalse(conflict("{}", "{uri: {regex: /a.*}}"), "an unset side conflicts with nothing");
        assertTrue(conflict("{headers: {x: {exact: a}}}", "{headers: {x: {exact: b}}}"));
        assertFalse(conflict("{headers: {x: {exact: a}}}", "{headers: {y: {exact: b}}}"));
        assertTrue(conflict("{ignoreUriCase: true}", "{}"));
        assertTrue(conflict("{port: 80}", "{port: 8080}"));
        assertTrue(conflict("{sourceNamespace: a}", "{}"), "the root's sourceNamespace must be the delegate's");
        assertTrue(conflict("{sourceLabels: {app: a}}", "{sourceLabels: {app: b}}"));
        assertTrue(conflict("{gateways: [a/g]}", "{gateways: [a/g, b/g]}"));
        assertFalse(conflict("{gateways: [a/g, b/g]}", "{gateways: [b/g]}"));
    }

    @Test
    void matchesMergeAsIstiosMergeHTTPMatchRequest() {
        List<JsonNode> merged = VirtualServiceDelegates.mergeMatches(
                List.of(json("{name: r, uri: {prefix: /api}, headers: {a: {exact: '1'}}, port: 80}")),
                List.of(json("{name: d, uri: {prefix: /api/v1}, headers: {b: {exact: '3'}}, method: {exact: GET}}")));
        assertEquals(List.of(json("{name: r-d, uri: {prefix: /api/v1}, headers: {a: {exact: '1'}, b: {exact: '3'}}, "
                + "method: {exact: GET}, port: 80}")), merged);
        assertNull(VirtualServiceDelegates.mergeMatches(List.of(json("{uri: {prefix: /a}}")),
                List.of(json("{uri: {prefix: /a}}"), json("{uri: {prefix: /b}}"))), "one delegate match that fits none: out");
        assertEquals(2, VirtualServiceDelegates.mergeMatches(List.of(json("{uri: {prefix: /a}}"), json("{method: {exact: GET}}")),
                List.of(json("{uri: {prefix: /a/b}}"))).size(), "merged with every root match it fits");
    }

    private static boolean conflict(String root, String leaf) {
        return VirtualServiceDelegates.conflict(json(root), json(leaf));
    }

    private static JsonNode json(String flowYaml) {
        return Fixtures.parseYaml(flowYaml);
    }

    /** A delegate VirtualService team/api (no hosts) of {@code http} routes. */
    private static ObjectNode delegate(String namespace, String exportTo, String http) {
        return Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: api, namespace: %s}
                spec:
                %s  http:
                %s""".formatted(namespace, exportTo == null ? "" : "  exportTo: " + exportTo + "\n", http.indent(2)));
    }

    private ProxyResources sleep(ObjectNode... extra) {
        List<ObjectNode> objects = Fixtures.seed();
        objects.addAll(List.of(extra));
        objects.add(Fixtures.parseYaml("""
                apiVersion: v1
                kind: Service
                metadata: {name: httpbin, namespace: team}
                spec:
                  clusterIP: 10.96.7.7
                  selector: {app: httpbin-team}
                  ports: [{name: http, port: 8000, targetPort: 80}]
                """));
        MeshModel model = MeshModel.of(objects);
        return translator.translate(model, Fixtures.sidecar(model, "sleep"));
    }

    private static VirtualHost vhost(ProxyResources r) {
        return r.route("8000").orElseThrow().getVirtualHostsList().stream().filter(v -> v.getName().equals(HTTPBIN))
                .findFirst().orElseThrow();
    }

    private static List<String> warnings(ProxyResources r) {
        return r.warnings().stream().map(Object::toString).toList();
    }
}
