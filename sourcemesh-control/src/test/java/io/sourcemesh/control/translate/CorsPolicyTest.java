package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * VirtualService corsPolicy as Istio's TranslateCORSPolicy (pilot/pkg/networking/core/route/route.go) writes it in a
 * route's typed_per_filter_config, and the empty envoy.filters.http.cors filter Istio's listener_builder.go puts in every
 * connection manager, after the fault filter, before the router.
 */
class CorsPolicyTest {
    private final MeshModel model = MeshModel.of(Fixtures.seed("topology/cors.yaml"));

    private static List<Route> routes(ProxyResources r, String routeConfig, String vhostPrefix) {
        return r.route(routeConfig).orElseThrow().getVirtualHostsList().stream()
                .filter(v -> v.getName().startsWith(vhostPrefix)).findFirst().orElseThrow().getRoutesList();
    }

    @Test
    void aSidecarsRouteCarriesIstiosCorsPolicy() throws Exception {
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        Golden.assertMatches("sidecar-cors", r.toJson());
        List<Route> routes = routes(r, "8000", "httpbin.");
        assertEquals(List.of("api", "legacy", "fallback"), routes.stream().map(Route::getName).toList());
        CorsPolicy api = routes.get(0).getTypedPerFilterConfigOrThrow("envoy.filters.http.cors").unpack(CorsPolicy.class);
        assertEquals(CorsPolicy.newBuilder()
                .addAllowOriginStringMatch(StringMatcher.newBuilder().setExact("https://app.example.com"))
                .addAllowOriginStringMatch(StringMatcher.newBuilder().setPrefix("https://dev."))
                .addAllowOriginStringMatch(StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder()
                        .setRegex("https://.*\\.trusted\\.example")))
                .setAllowMethods("GET,POST,PUT").setAllowHeaders("content-type,x-token").setExposeHeaders("x-request-id")
                .setMaxAge("86400").setAllowCredentials(BoolValue.of(true))
                .setForwardNotMatchingPreflights(BoolValue.of(false))
                .setFilterEnabled(RuntimeFractionalPercent.newBuilder().setDefaultValue(FractionalPercent.newBuilder()
                        .setNumerator(100).setDenominator(FractionalPercent.DenominatorType.HUNDRED)))
                .build(), api);

        CorsPolicy legacy = routes.get(1).getTypedPerFilterConfigOrThrow("envoy.filters.http.cors").unpack(CorsPolicy.class);
        assertEquals(List.of(StringMatcher.newBuilder().setExact("https://old.example.com").build()),
                legacy.getAllowOriginStringMatchList(), "the deprecated allowOrigin strings are exact matches");
        assertEquals(BoolValue.of(false), legacy.getAllowCredentials(), "a false that is set is written");
        assertEquals(BoolValue.of(true), legacy.getForwardNotMatchingPreflights(), "unset unmatchedPreflights forwards");
        assertEquals("", legacy.getMaxAge());
        assertFalse(routes.get(2).containsTypedPerFilterConfig("envoy.filters.http.cors"));
    }

    @Test
    void aGatewaysRouteCarriesItToo() throws Exception {
        ProxyResources r = Translator.create().translate(model, Fixtures.gateway(model));
        Golden.assertMatches("gateway-cors", r.toJson());
        Route api = routes(r, "http.80", "httpbin.example.com").get(0);
        assertEquals("86400", api.getTypedPerFilterConfigOrThrow("envoy.filters.http.cors").unpack(CorsPolicy.class).getMaxAge());
    }

    @Test
    void everyConnectionManagerHasAnEmptyCorsFilterAfterTheFaultFilterBeforeTheRouter() throws Exception {
        for (ProxyResources r : List.of(Translator.create().translate(model, Fixtures.sidecar(model, "httpbin")),
                Translator.create().translate(model, Fixtures.sidecar(model, "sleep")),
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
                        assertEquals(List.of("envoy.filters.http.fault", "envoy.filters.http.cors", "envoy.filters.http.router"),
                                filters.subList(n - 3, n).stream().map(x -> x.getName()).toList(), l.getName());
                        assertEquals(Cors.getDefaultInstance(), filters.get(n - 2).getTypedConfig().unpack(Cors.class));
                        seen++;
                    }
                }
            }
            assertTrue(seen > 0, "no connection manager seen");
        }
    }
}
