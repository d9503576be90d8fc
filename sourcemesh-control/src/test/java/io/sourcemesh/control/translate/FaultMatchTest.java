package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/** VirtualService fault and match fields, as Istio's route.go translates them (TranslateFault, TranslateRouteMatch, sourceMatchHTTP). */
class FaultMatchTest {
    private final MeshModel model = MeshModel.of(Fixtures.seed("topology/fault-match.yaml"));

    private static List<Route> routes(ProxyResources r, String routeConfig, String vhostPrefix) {
        return r.route(routeConfig).orElseThrow().getVirtualHostsList().stream()
                .filter(v -> v.getName().startsWith(vhostPrefix)).findFirst().orElseThrow().getRoutesList();
    }

    @Test
    void sidecarRoutesCarryFaultsAndMatchersAndOnlyItsOwnSourceMatches() throws Exception {
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        Golden.assertMatches("sidecar-fault-match", r.toJson());
        List<Route> routes = routes(r, "8000", "httpbin.");
        assertEquals(List.of("abort", "delay", "only-sleep", "fallback"), routes.stream().map(Route::getName).toList(),
                "not-sleep (sourceLabels), other-port (port 9999) and edge-only (gateways) are not this proxy's");

        Route abort = routes.get(0);
        assertEquals(List.of(HeaderMatcher.newBuilder().setName(":method")
                .setStringMatch(io.envoyproxy.envoy.type.matcher.v3.StringMatcher.newBuilder().setExact("GET")).build()),
                abort.getMatch().getHeadersList());
        HTTPFault abortFault = abort.getTypedPerFilterConfigOrThrow("envoy.filters.http.fault").unpack(HTTPFault.class);
        assertEquals(503, abortFault.getAbort().getHttpStatus());
        assertEquals(FractionalPercent.newBuilder().setNumerator(1_000_000).setDenominator(FractionalPercent.DenominatorType.MILLION)
                .build(), abortFault.getAbort().getPercentage());
        assertFalse(abortFault.hasDelay());

        Route delay = routes.get(1);
        HTTPFault delayFault = delay.getTypedPerFilterConfigOrThrow("envoy.filters.http.fault").unpack(HTTPFault.class);
        assertEquals(1, delayFault.getDelay().getFixedDelay().getSeconds());
        assertEquals(500_000_000, delayFault.getDelay().getFixedDelay().getNanos());
        assertEquals(FractionalPercent.newBuilder().setNumerator(50).setDenominator(FractionalPercent.DenominatorType.HUNDRED).build(),
                delayFault.getDelay().getPercentage(), "the deprecated integer percent is per hundred");
        assertEquals(14, delayFault.getAbort().getGrpcStatus(), "UNAVAILABLE");
        assertEquals(5000, delayFault.getAbort().getPercentage().getNumerator(), "0.5% is 5000 per million");
        assertEquals(List.of("debug", "slow"), delay.getMatch().getQueryParametersList().stream().map(q -> q.getName()).toList());
        assertEquals("[0-9]+", delay.getMatch().getQueryParameters(0).getStringMatch().getSafeRegex().getRegex());
        HeaderMatcher skip = delay.getMatch().getHeaders(0);
        assertEquals("x-skip", skip.getName());
        assertTrue(skip.getPresentMatch() && skip.getInvertMatch(), "withoutHeaders {}: the header must be absent");

        Route onlySleep = routes.get(2);
        assertEquals(List.of("x-a", "x-b", ":authority", ":scheme"),
                onlySleep.getMatch().getHeadersList().stream().map(HeaderMatcher::getName).toList(),
                "headers sorted by name, then authority and scheme, as Istio");
        assertTrue(onlySleep.getMatch().getHeaders(0).getPresentMatch(), "prefix \"\" is a presence match");
        assertFalse(routes.get(3).containsTypedPerFilterConfig("envoy.filters.http.fault"));
    }

    @Test
    void everyConnectionManagerHasAnEmptyFaultFilterBeforeTheCorsFilterAndTheRouter() throws Exception {
        for (ProxyResources r : List.of(Translator.create().translate(model, Fixtures.sidecar(model, "httpbin")),
                Translator.create().translate(model, Fixtures.gateway(model)))) {
            int seen = 0;
            for (var l : r.listeners()) {
                for (var chain : l.getFilterChainsList()) {
                    for (var f : chain.getFiltersList()) {
                        if (!f.getName().equals(Names.HCM)) {
                            continue;
                        }
                        var filters = f.getTypedConfig().unpack(HttpConnectionManager.class).getHttpFiltersList();
                        int n = filters.size();
                        assertEquals("envoy.filters.http.fault", filters.get(n - 3).getName(), l.getName());
                        assertEquals(HTTPFault.getDefaultInstance(), filters.get(n - 3).getTypedConfig().unpack(HTTPFault.class),
                                "Istio's filter carries no faults of its own");
                        seen++;
                    }
                }
            }
            assertTrue(seen > 0, "no connection manager seen");
        }
    }

    @Test
    void gatewayRoutesFollowTheGatewayNameAndItsPort() throws Exception {
        ProxyResources r = Translator.create().translate(model, Fixtures.gateway(model));
        Golden.assertMatches("gateway-fault-match", r.toJson());
        List<Route> routes = routes(r, "http.80", "httpbin.example.com");
        assertEquals(List.of("abort", "delay", "edge-only", "fallback"), routes.stream().map(Route::getName).toList(),
                "the gateway's pod is not app: sleep; gateways [edge] names this gateway");
    }
}
