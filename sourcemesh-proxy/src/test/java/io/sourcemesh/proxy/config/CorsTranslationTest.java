package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.HCM;
import static io.sourcemesh.proxy.config.Bootstraps.hcm;
import static io.sourcemesh.proxy.config.Bootstraps.loadHcm;
import static io.sourcemesh.proxy.config.Bootstraps.loadRoute;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static io.sourcemesh.proxy.config.Bootstraps.route;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.matcher.StringMatch;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * envoy.filters.http.cors: the filter (its Cors has no field) and the CorsPolicy of a route and of a virtual host
 * (api/envoy/extensions/filters/http/cors/v3/cors.proto; the route's over the virtual host's as
 * source/extensions/filters/http/cors/cors_filter.cc reads them).
 */
class CorsTranslationTest {
    static final String CORS_TYPE = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors";
    static final String POLICY_TYPE = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";
    static final String FAULT_TYPE = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";
    static final String ROUTE0 = HCM + ".route_config.virtual_hosts[0].routes[0]";

    private static String policy(String yaml) {
        return "typed_per_filter_config:\n  envoy.filters.http.cors:\n    \"@type\": " + POLICY_TYPE + "\n" + yaml.indent(4);
    }

    private static String perRoute(String yaml) {
        return route("- match: {prefix: /}\n  route: {cluster: backend}\n" + policy(yaml).indent(2));
    }

    /** One virtual host with {@code hostPolicy}, its one route with {@code routeFields}. */
    private static String withHost(String hostPolicy, String routeFields) {
        return hcm("route_config:\n  virtual_hosts:\n  - name: all\n    domains: [\"*\"]\n" + policy(hostPolicy).indent(4)
                + "    routes:\n    - match: {prefix: /}\n      route: {cluster: backend}\n" + routeFields.indent(6));
    }

    @Test
    void istiosPolicyBecomesTheRoutesCorsConfig() {
        RouteConfig.Route r = loadRoute(perRoute("""
                allow_origin_string_match: [{exact: "https://a.example"}, {prefix: "https://b."}, {safe_regex: {regex: ".*\\\\.c\\\\.example"}}]
                allow_methods: GET,POST
                allow_headers: x-a,x-b
                expose_headers: x-c
                max_age: "600"
                allow_credentials: true
                forward_not_matching_preflights: false
                filter_enabled: {default_value: {numerator: 100, denominator: HUNDRED}}
                """));
        CorsPolicyConfig c = (CorsPolicyConfig) r.typedPerFilterConfig().get("envoy.filters.http.cors");
        assertEquals(3, c.allowOrigins().size());
        assertEquals(StringMatch.of(StringMatch.Kind.EXACT, "https://a.example", false), c.allowOrigins().get(0));
        assertEquals(List.of("GET,POST", "x-a,x-b", "x-c", "600"), List.of(c.allowMethods(), c.allowHeaders(), c.exposeHeaders(),
                c.maxAge()));
        assertEquals(Optional.of(true), c.allowCredentials());
        assertEquals(Optional.of(false), c.forwardNotMatchingPreflights());
        assertEquals(Optional.of(new RouteConfig.Fraction(100, 100)), c.filterEnabled());
        assertEquals(Optional.empty(), c.shadowEnabled());
        assertTrue(c.allows("https://a.example") && c.allows("https://b.other") && c.allows("https://x.c.example"));
        assertFalse(c.allows("https://a.example.evil") || c.allows("http://b.example"));
        assertFalse(c.anyOrigin());
    }

    @Test
    void aMatcherThatMatchesAStarAllowsEveryOrigin() {
        CorsPolicyConfig c = (CorsPolicyConfig) loadRoute(perRoute("allow_origin_string_match: [{exact: \"*\"}]\n"))
                .typedPerFilterConfig().get("envoy.filters.http.cors");
        assertTrue(c.anyOrigin());
        assertTrue(c.allows("https://anything.example"), "Envoy's isOriginAllowed: match(\"*\") allows all");
    }

    @Test
    void theFilterIsRegisteredUnderEitherName() {
        HttpConnectionManagerConfig h = loadHcm(hcm("http_filters:\n- name: envoy.cors\n  typed_config: {\"@type\": " + CORS_TYPE
                + "}\n- name: envoy.filters.http.router\n  typed_config: {\"@type\": " + Bootstraps.ROUTER_TYPE + "}\n"));
        assertEquals(new HttpFilterConfig.Cors("envoy.cors"), h.httpFilters().get(0));
    }

    @Test
    void aRoutesPolicyLiesOverItsVirtualHostsFieldByField() {
        RouteConfig.Route r = loadRoute(withHost("""
                allow_origin_string_match: [{exact: "https://host.example"}]
                allow_methods: GET
                allow_headers: x-host
                max_age: "60"
                allow_credentials: true
                filter_enabled: {default_value: {numerator: 0}}
                """, policy("""
                allow_methods: PUT
                expose_headers: x-route
                allow_credentials: false
                """)));
        CorsPolicyConfig c = (CorsPolicyConfig) r.typedPerFilterConfig().get("envoy.filters.http.cors");
        assertEquals(List.of(StringMatch.of(StringMatch.Kind.EXACT, "https://host.example", false)), c.allowOrigins());
        assertEquals(List.of("PUT", "x-host", "x-route", "60"), List.of(c.allowMethods(), c.allowHeaders(), c.exposeHeaders(),
                c.maxAge()));
        assertEquals(Optional.of(false), c.allowCredentials(), "a route's false is set, so it wins");
        assertEquals(Optional.empty(), c.filterEnabled(), "filter_enabled is the most specific policy's alone: unset, enabled");
        assertTrue(c.enabled());
    }

    @Test
    void aVirtualHostsPolicyAppliesToRoutesWithoutOne() {
        RouteConfig.Route r = loadRoute(withHost("allow_origin_string_match: [{exact: \"https://host.example\"}]\n", ""));
        CorsPolicyConfig c = (CorsPolicyConfig) r.typedPerFilterConfig().get("envoy.filters.http.cors");
        assertTrue(c.allows("https://host.example"));
        assertEquals(Optional.empty(), c.filterEnabled());
    }

    @Test
    void anotherFiltersVirtualHostConfigIsTheRoutesUnlessTheRouteHasItsOwn() {
        String hostFault = "typed_per_filter_config:\n  envoy.filters.http.fault:\n    \"@type\": " + FAULT_TYPE
                + "\n    abort: {http_status: 503, percentage: {numerator: 100}}\n";
        String routes = "    routes:\n    - match: {prefix: /a}\n      route: {cluster: backend}\n"
                + "    - match: {prefix: /}\n      route: {cluster: backend}\n"
                + "      typed_per_filter_config:\n        envoy.filters.http.fault:\n          \"@type\": " + FAULT_TYPE
                + "\n          abort: {http_status: 418, percentage: {numerator: 100}}\n";
        HttpConnectionManagerConfig h = loadHcm(hcm("route_config:\n  virtual_hosts:\n  - name: all\n    domains: [\"*\"]\n"
                + hostFault.indent(4) + routes));
        List<RouteConfig.Route> rs = h.routeConfig().virtualHosts().get(0).routes();
        assertEquals(503, ((FaultConfig) rs.get(0).typedPerFilterConfig().get("envoy.filters.http.fault")).abort().orElseThrow()
                .httpStatus().getAsInt(), "Envoy's mostSpecificPerFilterConfig: the virtual host's");
        assertEquals(418, ((FaultConfig) rs.get(1).typedPerFilterConfig().get("envoy.filters.http.fault")).abort().orElseThrow()
                .httpStatus().getAsInt(), "the route's own");
    }

    @Test
    void whatIsNotImplementedIsRefusedByPath() {
        String cors = ROUTE0 + ".typed_per_filter_config.envoy.filters.http.cors";
        rejects(perRoute("filter_enabled: {runtime_key: cors.on, default_value: {numerator: 100}}\n"),
                cors + ".filter_enabled.runtime_key: field is not supported");
        rejects(perRoute("shadow_enabled: {runtime_key: cors.shadow, default_value: {numerator: 1}}\n"),
                cors + ".shadow_enabled.runtime_key: field is not supported");
        rejects(perRoute("allow_origin_string_match: [{prefix: \"\"}]\n"),
                cors + ".allow_origin_string_match[0].prefix: must not be empty");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend}\n  typed_per_filter_config:\n    envoy.filters.http.router:\n"
                        + "      \"@type\": " + Bootstraps.ROUTER_TYPE + "\n"),
                ROUTE0 + ".typed_per_filter_config.envoy.filters.http.router: " + Bootstraps.ROUTER_TYPE
                        + " is not supported as per-route config (supported: " + FAULT_TYPE + ", " + POLICY_TYPE + ")");
        rejects(hcm("http_filters:\n- name: envoy.filters.http.cors\n  typed_config: {\"@type\": " + POLICY_TYPE
                        + "}\n- name: envoy.filters.http.router\n  typed_config: {\"@type\": " + Bootstraps.ROUTER_TYPE + "}\n"),
                HCM + ".http_filters[0].typed_config: " + POLICY_TYPE + " is not an HTTP filter");
    }
}
