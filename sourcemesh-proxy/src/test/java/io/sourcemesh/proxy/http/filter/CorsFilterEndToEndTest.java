package io.sourcemesh.proxy.http.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.Origin;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * envoy.filters.http.cors end to end with real curl on loopback, in Istio's shape (the filter with an empty Cors before
 * the router, each route's CorsPolicy in typed_per_filter_config), as Envoy's
 * test/extensions/filters/http/cors/cors_filter_integration_test.cc: a preflight answered by the proxy and never seen by
 * the origin, a simple request's headers, an origin not allowed, a route's policy over its virtual host's, the stats.
 */
class CorsFilterEndToEndTest {
    private static final String POLICY = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";
    private static final String APP = "https://app.example";
    private static final String CORS_FILTER =
            "name: envoy.filters.http.cors\ntyped_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}\n";

    private Origin origin;
    private Proxy proxy;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = Origin.start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private static String policy(String yaml) {
        return "typed_per_filter_config:\n  envoy.filters.http.cors:\n    \"@type\": " + POLICY + "\n" + yaml.indent(4);
    }

    private static final String ROUTES = """
            - match: {prefix: /api/down}
              direct_response: {status: 503, body: {inline_string: down}}
            @API@
            - match: {prefix: /api}
              route: {cluster: origin}
            @API@
            - match: {prefix: /ignore}
              route: {cluster: origin}
            @IGNORE@
            - match: {prefix: /host}
              route: {cluster: origin}
            @HOST@
            - match: {prefix: /}
              route: {cluster: origin}
            """.replaceAll("@API@\n", policy("""
                    allow_origin_string_match: [{exact: "https://app.example"}, {suffix: ".trusted.example"}]
                    allow_methods: GET,POST,PUT
                    allow_headers: content-type,x-token
                    expose_headers: x-request-id,x-trace
                    max_age: "86400"
                    allow_credentials: true
                    forward_not_matching_preflights: true
                    filter_enabled: {default_value: {numerator: 100, denominator: HUNDRED}}
                    """).indent(2))
            .replace("@IGNORE@\n", policy("""
                    allow_origin_string_match: [{exact: "https://app.example"}]
                    allow_methods: GET
                    forward_not_matching_preflights: false
                    """).indent(2))
            // Only what the route sets itself; the rest from the virtual host's policy.
            .replace("@HOST@\n", policy("allow_methods: DELETE\n").indent(2));

    /** The virtual host's own policy: what /host inherits and the catch-all route uses as it is. */
    private static final String HOST_POLICY = policy("""
            allow_origin_string_match: [{prefix: "https://host."}]
            allow_methods: GET
            allow_headers: x-host
            max_age: "5"
            """);

    private void start() {
        // An admin listener beside it, for /stats.
        proxy = Proxy.start(BootstrapLoader.loadText("admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n"
                + HttpBootstrap.toOrigin(origin.port()).statPrefix("ingress").httpFilter(CORS_FILTER)
                .virtualHostFields(HOST_POLICY).routes(ROUTES).yaml()), 1);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    /** The response's status and headers (lower-case names), from curl's -D. */
    private record Response(int status, Map<String, String> headers) {
        String header(String name) {
            return headers.get(name);
        }

        Map<String, String> cors() {
            Map<String, String> out = new LinkedHashMap<>();
            headers.forEach((k, v) -> {
                if (k.startsWith("access-control-")) {
                    out.put(k, v);
                }
            });
            return out;
        }
    }

    private Response curl(String method, String path, String... headers) {
        List<String> args = new ArrayList<>(List.of("-o", "/dev/null", "-D", "-", "-X", method));
        for (String h : headers) {
            args.add("-H");
            args.add(h);
        }
        args.add(url(path));
        Curl.Result r = Curl.run(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        Map<String, String> h = new LinkedHashMap<>();
        for (String line : r.body().split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && !line.startsWith("HTTP/")) {
                h.put(line.substring(0, colon).toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
        }
        return new Response(r.status(), h);
    }

    private long stat(String name) {
        String stats = Curl.run("http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort() + "/stats").body();
        for (String line : stats.split("\n")) {
            if (line.startsWith(name + ": ")) {
                return Long.parseLong(line.substring(name.length() + 2).trim());
            }
        }
        throw new AssertionError(name + " not in /stats: " + stats);
    }

    @Test
    void aPreflightFromAnAllowedOriginIsAnsweredByTheProxyAndNeverReachesTheOrigin() {
        start();
        Response r = curl("OPTIONS", "/api/items", "Origin: " + APP, "Access-Control-Request-Method: PUT",
                "Access-Control-Request-Headers: x-token");
        assertEquals(200, r.status());
        assertEquals(Map.of("access-control-allow-origin", APP, "access-control-allow-credentials", "true",
                "access-control-allow-methods", "GET,POST,PUT", "access-control-allow-headers", "content-type,x-token",
                "access-control-max-age", "86400", "access-control-expose-headers", "x-request-id,x-trace"), r.cors(),
                "cors_filter.cc's decodeHeaders, and its encodeHeaders over its own answer");
        assertEquals("0", r.header("content-length"));
        assertTrue(origin.seen().isEmpty(), "the preflight never reached the origin");
        Response suffix = curl("OPTIONS", "/api/items", "Origin: https://a.trusted.example", "Access-Control-Request-Method: GET");
        assertEquals("https://a.trusted.example", suffix.header("access-control-allow-origin"), "a suffix matcher");
        assertTrue(origin.seen().isEmpty());
        assertEquals(2, stat("http.ingress.cors.origin_valid"));
    }

    @Test
    void aSimpleRequestFromAnAllowedOriginGetsItsOriginCredentialsAndExposedHeadersBack() {
        start();
        Response r = curl("GET", "/api/items", "Origin: " + APP);
        assertEquals(200, r.status());
        assertEquals(Map.of("access-control-allow-origin", APP, "access-control-allow-credentials", "true",
                "access-control-expose-headers", "x-request-id,x-trace"), r.cors());
        assertEquals("/api/items", origin.last().uri(), "forwarded");
        assertEquals(APP, origin.last().header("origin"), "the Origin goes up unchanged");
    }

    /**
     * A reply the proxy makes itself goes through the encoder filters too (Envoy's sendLocalReplyViaFilterChain), so a
     * browser reads a 503 from an allowed origin instead of a CORS error.
     */
    @Test
    void aLocalReplyToAnAllowedOriginCarriesTheCorsHeaders() {
        start();
        Response r = curl("GET", "/api/down", "Origin: " + APP);
        assertEquals(503, r.status());
        assertEquals(Map.of("access-control-allow-origin", APP, "access-control-allow-credentials", "true",
                "access-control-expose-headers", "x-request-id,x-trace"), r.cors());
        assertEquals(Map.of(), curl("GET", "/api/down", "Origin: https://evil.example").cors(), "not for another origin");
        assertTrue(origin.seen().isEmpty());
    }

    @Test
    void aDisallowedOriginGetsNothingAddedAndItsPreflightIsForwarded() {
        start();
        Response simple = curl("GET", "/api/items", "Origin: https://evil.example");
        assertEquals(200, simple.status());
        assertEquals(Map.of(), simple.cors());
        Response preflight = curl("OPTIONS", "/api/items", "Origin: https://evil.example", "Access-Control-Request-Method: PUT");
        assertEquals(Map.of(), preflight.cors());
        assertEquals(2, origin.seen().size(), "forward_not_matching_preflights: the origin answers the preflight");
        assertEquals("OPTIONS", origin.last().method());
        assertEquals(2, stat("http.ingress.cors.origin_invalid"));
        assertEquals(0, stat("http.ingress.cors.origin_valid"));
        Response noOrigin = curl("GET", "/api/items");
        assertEquals(Map.of(), noOrigin.cors(), "not a CORS request");
    }

    @Test
    void aDisallowedPreflightIsAnsweredWithoutAllowOriginWhenUnmatchedPreflightsAreIgnored() {
        start();
        Response r = curl("OPTIONS", "/ignore", "Origin: https://evil.example", "Access-Control-Request-Method: GET");
        assertEquals(200, r.status());
        assertEquals(Map.of("access-control-allow-methods", "GET", "access-control-allow-headers", "x-host",
                "access-control-max-age", "5"), r.cors(), "the route's methods, the rest its virtual host's");
        assertNull(r.header("access-control-allow-origin"));
        assertTrue(origin.seen().isEmpty(), "answered by the proxy, not forwarded");
    }

    @Test
    void aRoutesPolicyOverridesItsVirtualHostsFieldByField() {
        start();
        Response host = curl("OPTIONS", "/host/x", "Origin: https://host.example", "Access-Control-Request-Method: DELETE");
        assertEquals(Map.of("access-control-allow-origin", "https://host.example", "access-control-allow-methods", "DELETE",
                "access-control-allow-headers", "x-host", "access-control-max-age", "5"), host.cors(),
                "the route's methods, the virtual host's origins, headers and max-age");
        Response catchAll = curl("OPTIONS", "/other", "Origin: https://host.example", "Access-Control-Request-Method: GET");
        assertEquals("GET", catchAll.header("access-control-allow-methods"), "a route without a policy takes the virtual host's");
        Response appAtHost = curl("GET", "/host/x", "Origin: " + APP);
        assertFalse(appAtHost.headers().containsKey("access-control-allow-origin"), "the /api route's origins are not /host's");
        assertTrue(origin.seen().size() == 1 && origin.last().method().equals("GET"), "only the simple request reached the origin");
    }

    @Test
    void aPolicyWeDoNotImplementIsRefusedByName() {
        String yaml = HttpBootstrap.toOrigin(origin.port()).httpFilter(CORS_FILTER)
                .routes("- match: {prefix: /}\n  route: {cluster: origin}\n" + policy(
                        "filter_enabled: {runtime_key: cors.enabled, default_value: {numerator: 100}}\n").indent(2)).yaml();
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> BootstrapLoader.loadText(yaml));
        assertTrue(e.getMessage().endsWith(".typed_per_filter_config.envoy.filters.http.cors.filter_enabled.runtime_key: field is not"
                + " supported"), e.getMessage());
    }
}
