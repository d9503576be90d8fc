package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.HCM;
import static io.sourcemesh.proxy.config.Bootstraps.hcm;
import static io.sourcemesh.proxy.config.Bootstraps.loadHcm;
import static io.sourcemesh.proxy.config.Bootstraps.loadRoute;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static io.sourcemesh.proxy.config.Bootstraps.route;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** envoy.filters.http.fault: the filter's HTTPFault and a route's typed_per_filter_config. */
class FaultTranslationTest {
    static final String FAULT_TYPE = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";
    static final String ROUTE0 = HCM + ".route_config.virtual_hosts[0].routes[0]";

    private static String perRoute(String fault) {
        return route("- match: {prefix: /}\n  route: {cluster: backend}\n  typed_per_filter_config:\n"
                + "    envoy.filters.http.fault:\n      \"@type\": " + FAULT_TYPE + "\n" + fault.indent(6));
    }

    private static String filter(String fault) {
        return hcm("http_filters:\n- name: envoy.filters.http.fault\n  typed_config:\n    \"@type\": " + FAULT_TYPE + "\n"
                + fault.indent(4) + "- name: envoy.filters.http.router\n  typed_config: {\"@type\": " + Bootstraps.ROUTER_TYPE + "}\n");
    }

    @Test
    void istiosPerRouteShapeBecomesTheRoutesFaultConfig() {
        RouteConfig.Route r = loadRoute(perRoute("""
                delay: {fixed_delay: 2.5s, percentage: {numerator: 500000, denominator: MILLION}}
                abort: {http_status: 503, percentage: {numerator: 10, denominator: HUNDRED}}
                """));
        assertEquals(Map.of("envoy.filters.http.fault", new FaultConfig(
                Optional.of(new FaultConfig.Delay(Duration.ofMillis(2500), new RouteConfig.Fraction(500000, 1000000))),
                Optional.of(new FaultConfig.Abort(OptionalInt.of(503), OptionalInt.empty(), new RouteConfig.Fraction(10, 100))))),
                r.typedPerFilterConfig());
        FaultConfig grpc = (FaultConfig) loadRoute(perRoute("abort: {grpc_status: 14}\n"))
                .typedPerFilterConfig().get("envoy.filters.http.fault");
        assertEquals(new FaultConfig.Abort(OptionalInt.empty(), OptionalInt.of(14), new RouteConfig.Fraction(0, 100)),
                grpc.abort().orElseThrow(), "an unset percentage is 0%, Envoy's proto default");
    }

    @Test
    void theFilterIsRegisteredBeforeTheRouterWithItsOwnFaults() {
        HttpConnectionManagerConfig h = loadHcm(filter("abort: {http_status: 418, percentage: {numerator: 100}}\n"));
        assertEquals(new HttpFilterConfig.Fault("envoy.filters.http.fault", new FaultConfig(Optional.empty(),
                Optional.of(new FaultConfig.Abort(OptionalInt.of(418), OptionalInt.empty(), RouteConfig.Fraction.ALL)))),
                h.httpFilters().get(0));
        assertEquals(new HttpFilterConfig.Fault("envoy.filters.http.fault", FaultConfig.NONE), loadHcm(filter("")).httpFilters().get(0),
                "Istio's empty HTTPFault: no faults unless a route has some");
    }

    @Test
    void whatIsNotImplementedIsRefusedByPath() {
        String fault = ROUTE0 + ".typed_per_filter_config.envoy.filters.http.fault";
        rejects(perRoute("abort: {http_status: 600, percentage: {numerator: 1}}\n"), fault + ".abort.http_status: 600 is not in [200, 600)");
        rejects(perRoute("abort: {header_abort: {}}\n"), fault + ".abort.header_abort: field is not supported");
        rejects(perRoute("delay: {header_delay: {}}\n"), fault + ".delay.header_delay: field is not supported");
        rejects(perRoute("max_active_faults: 3\n"), fault + ".max_active_faults: field is not supported");
        rejects(perRoute("upstream_cluster: backend\n"), fault + ".upstream_cluster: field is not supported");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend}\n  typed_per_filter_config:\n    envoy.filters.http.router:\n"
                        + "      \"@type\": " + Bootstraps.ROUTER_TYPE + "\n"),
                ROUTE0 + ".typed_per_filter_config.envoy.filters.http.router: " + Bootstraps.ROUTER_TYPE
                        + " is not supported as per-route config (supported: " + FAULT_TYPE + ", "
                        + CorsTranslationTest.POLICY_TYPE + ")");
        rejects(filter("response_rate_limit: {fixed_limit: {limit_kbps: 1}}\n"),
                HCM + ".http_filters[0].typed_config.response_rate_limit: field is not supported");
    }
}
