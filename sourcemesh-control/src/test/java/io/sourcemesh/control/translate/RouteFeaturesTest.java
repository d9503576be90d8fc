package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/** VirtualService timeout, retries, headers, rewrite, redirect, mirror; gateway merge and httpsRedirect (route.go, gateway.go). */
class RouteFeaturesTest {
    private final MeshModel model = MeshModel.of(Fixtures.seed("seed/http-demo.yaml", "topology/route-features.yaml"));

    private List<Route> sidecarRoutes() {
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        return r.route("8000").orElseThrow().getVirtualHostsList().stream()
                .filter(v -> v.getName().startsWith("httpbin.")).findFirst().orElseThrow().getRoutesList();
    }

    @Test
    void sidecarRoutesCarryEveryFeature() {
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        Golden.assertMatches("route-features-sidecar", r.toJson());
        List<Route> routes = sidecarRoutes();
        // Nothing after the catch-all route (Istio stops there), so "unreachable" is not emitted.
        assertEquals(List.of("slow", "moved", "api", "gone", ""), routes.stream().map(Route::getName).toList());

        Route slow = routes.get(0);
        assertEquals(500_000_000, slow.getRoute().getTimeout().getNanos());
        assertEquals("gateway-error,connect-failure,retriable-status-codes", slow.getRoute().getRetryPolicy().getRetryOn());
        assertEquals(3, slow.getRoute().getRetryPolicy().getNumRetries().getValue());
        assertEquals(List.of(404), slow.getRoute().getRetryPolicy().getRetriableStatusCodesList());
        assertEquals(250_000_000, slow.getRoute().getRetryPolicy().getPerTryTimeout().getNanos(), "ConvertPolicy copies perTryTimeout");
        assertEquals(List.of("x-set", "x-add"), slow.getRequestHeadersToAddList().stream().map(h -> h.getHeader().getKey()).toList());
        assertEquals(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD, slow.getRequestHeadersToAdd(0).getAppendAction());
        assertEquals(HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD, slow.getRequestHeadersToAdd(1).getAppendAction());
        assertEquals(List.of("x-drop"), slow.getRequestHeadersToRemoveList());
        assertEquals(List.of("x-powered-by"), slow.getResponseHeadersToRemoveList());
        assertEquals("httpbin.internal", slow.getRoute().getHostRewriteLiteral(), "a destination's host header is the authority");
        var mirror = slow.getRoute().getRequestMirrorPolicies(0);
        assertEquals("outbound|8000|v2|httpbin.default.svc.cluster.local", mirror.getCluster());
        assertEquals(500_000, mirror.getRuntimeFraction().getDefaultValue().getNumerator());

        Route moved = routes.get(1);
        assertEquals("/new", moved.getRedirect().getPathRedirect());
        assertEquals("other.example.com", moved.getRedirect().getHostRedirect());
        assertEquals(RedirectAction.RedirectResponseCode.FOUND, moved.getRedirect().getResponseCode());

        Route api = routes.get(2);
        assertEquals("/", api.getRoute().getPrefixRewrite());
        assertEquals("api.internal", api.getRoute().getHostRewriteLiteral());
        assertFalse(api.getRoute().hasRetryPolicy(), "attempts: 0 disables retries");

        assertEquals(410, routes.get(3).getDirectResponse().getStatus());
        Route fallback = routes.get(4);
        assertEquals("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
                fallback.getRoute().getRetryPolicy().getRetryOn(), "Istio's default retry policy");
        assertEquals(0, fallback.getRoute().getTimeout().getSeconds(), "no timeout by default");
    }

    @Test
    void connectionPoolBecomesCircuitBreakersAndOutlierDetectionEjection() throws Exception {
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        var c = r.cluster("outbound|8000||httpbin.default.svc.cluster.local").orElseThrow();
        var t = c.getCircuitBreakers().getThresholds(0);
        assertEquals(1, t.getMaxConnections().getValue());
        assertEquals(1, t.getMaxPendingRequests().getValue());
        assertEquals(-1, t.getMaxRequests().getValue(), "Istio's default: max uint32");
        assertTrue(t.getTrackRemaining());
        assertEquals(2, c.getConnectTimeout().getSeconds());
        assertEquals(1, TrafficPoliciesTest.typed(c).getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue());
        assertEquals(3, c.getOutlierDetection().getConsecutive5Xx().getValue());
        assertEquals(100, c.getOutlierDetection().getEnforcingConsecutive5Xx().getValue());
        assertEquals(0, c.getOutlierDetection().getEnforcingSuccessRate().getValue());
        assertEquals(180, c.getOutlierDetection().getBaseEjectionTime().getSeconds());
        assertEquals(0, c.getCommonLbConfig().getHealthyPanicThreshold().getValue(), 0.0);
        var subset = r.cluster("outbound|8000|v1|httpbin.default.svc.cluster.local").orElseThrow();
        assertEquals(1, subset.getCircuitBreakers().getThresholds(0).getMaxConnections().getValue(), "subsets inherit the policy");
        var sleep = r.cluster("outbound|80||sleep.default.svc.cluster.local").orElseThrow();
        assertEquals(-1, sleep.getCircuitBreakers().getThresholds(0).getMaxConnections().getValue(), "defaults without a rule");
        assertTrue(!sleep.hasOutlierDetection());
    }

    @Test
    void virtualServicesOfOneHostOnTwoGatewaysAreMergedAndHttpsRedirectRequiresTls() {
        ProxyResources r = Translator.create().translate(model, Fixtures.gateway(model));
        VirtualHost shop = r.route("http.80").orElseThrow().getVirtualHostsList().stream()
                .filter(v -> v.getName().equals("shop.example.com:80")).findFirst().orElseThrow();
        Golden.assertMatches("route-features-gateway", r.toJson());
        assertEquals(VirtualHost.TlsRequirementType.ALL, shop.getRequireTls());
        assertEquals(2, shop.getRoutesCount(), "both VirtualServices' routes");
        assertEquals("/partners", shop.getRoutes(0).getMatch().getPrefix(), "the catch-all moves last");
        assertEquals(3, shop.getRoutes(0).getRoute().getTimeout().getSeconds());
        assertEquals("/", shop.getRoutes(1).getMatch().getPrefix());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }
}
