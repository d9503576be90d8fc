package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Route-level features Istio's VirtualServices and Gateways need, from an Envoy bootstrap through real
 * curl to a real origin: header mutations (route and virtual host), redirects, require_tls and
 * max_requests_per_connection.
 */
class RouteFeaturesEndToEndTest {
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

    /** A bootstrap with one HTTP listener "http" on 127.0.0.1:0 whose one virtual host is {@code vhost}. */
    private void start(String vhost, String clusterFields) {
        start(vhost, clusterFields, "");
    }

    private void start(String vhost, String clusterFields, String extraClusters) {
        String yaml = """
                admin:
                  address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                static_resources:
                  listeners:
                  - name: http
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: http
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                          route_config:
                            name: local
                            virtual_hosts:
                """ + vhost.indent(18) + """
                  clusters:
                  - name: origin
                    connect_timeout: 1s
                """ + clusterFields.indent(4) + """
                    load_assignment:
                      cluster_name: origin
                      endpoints:
                      - lb_endpoints:
                        - endpoint:
                            address: {socket_address: {address: 127.0.0.1, port_value: %d}}
                """.formatted(origin.port()) + extraClusters.indent(2);
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    @Test
    void routeAndVirtualHostHeaderMutationsReachTheOriginAndTheClient() {
        start("""
                - name: all
                  domains: ["*"]
                  request_headers_to_add:
                  - header: {key: x-vhost, value: v}
                    append_action: OVERWRITE_IF_EXISTS_OR_ADD
                  routes:
                  - match: {prefix: /}
                    route: {cluster: origin}
                    request_headers_to_add:
                    - header: {key: x-set, value: one}
                      append_action: OVERWRITE_IF_EXISTS_OR_ADD
                    - header: {key: x-add, value: two}
                      append_action: APPEND_IF_EXISTS_OR_ADD
                    - header: {key: x-absent, value: three}
                      append_action: ADD_IF_ABSENT
                    - header: {key: x-pct, value: "100%%"}
                    request_headers_to_remove: [x-drop]
                    response_headers_to_add:
                    - header: {key: x-resp, value: r}
                      append_action: OVERWRITE_IF_EXISTS_OR_ADD
                    response_headers_to_remove: [content-type]
                """, "");
        Curl.Result r = Curl.run("-i", "-H", "x-set: client", "-H", "x-add: client", "-H", "x-absent: client",
                "-H", "x-drop: secret", url("/echo"));
        assertEquals(200, r.status(), r.err());
        Origin.Seen seen = origin.last();
        assertEquals("one", seen.header("x-set"), "set overwrites the client's value");
        assertEquals("client,two", seen.header("x-add"), "add appends");
        assertEquals("client", seen.header("x-absent"), "add-if-absent keeps the client's value");
        assertEquals("100%", seen.header("x-pct"), "%% is a literal percent sign");
        assertEquals("v", seen.header("x-vhost"));
        assertNull(seen.header("x-drop"));
        String head = r.out().toLowerCase(java.util.Locale.ROOT);
        assertTrue(head.contains("\nx-resp: r\r\n"), r.out());
        assertFalse(head.contains("content-type:"), r.out());
    }

    /**
     * regex_rewrite (Istio's uriRegexRewrite) rewrites the path the origin sees, RE2 groups and every match, and leaves the
     * query as it came; the original path is in x-envoy-original-path, as Envoy's finalizePathHeader keeps it.
     */
    @Test
    void regexRewriteRewritesThePathTheOriginSees() {
        start("""
                - name: all
                  domains: ["*"]
                  routes:
                  - match: {prefix: /service/}
                    route:
                      cluster: origin
                      regex_rewrite: {pattern: {regex: "^/service/([^/]+)(/.*)$"}, substitution: "\\\\2/instance/\\\\1"}
                  - match: {prefix: /}
                    route:
                      cluster: origin
                      regex_rewrite: {pattern: {regex: "o"}, substitution: "0"}
                """, "");
        Curl.Result r = Curl.run(url("/service/foo/v1/x?from=/service/bar/y"));
        assertEquals(200, r.status(), r.err());
        assertEquals("/v1/x/instance/foo?from=/service/bar/y", origin.last().uri());
        assertEquals("/service/foo/v1/x?from=/service/bar/y", origin.last().header("x-envoy-original-path"));
        r = Curl.run(url("/foo/boo?o=o"));
        assertEquals(200, r.status(), r.err());
        assertEquals("/f00/b00?o=o", origin.last().uri(), "every match in the path, none in the query");
    }

    /**
     * prefix_rewrite swaps what the route matched, as Envoy's currentUrlPathAfterRewriteWithMatchedPath: the prefix of a
     * prefix match, the whole path of an exact (path) or safe_regex match; the query stays. Istio writes a VirtualService's
     * rewrite.uri as prefix_rewrite whatever its uri match, so an exact match's rewrite must not be dropped.
     */
    @Test
    void prefixRewriteSwapsWhatTheRouteMatched() {
        start("""
                - name: all
                  domains: ["*"]
                  routes:
                  - match: {path: /exact}
                    route: {cluster: origin, prefix_rewrite: /rewritten}
                  - match: {safe_regex: {regex: "/re[0-9]+"}}
                    route: {cluster: origin, prefix_rewrite: /from-regex}
                  - match: {prefix: /pre/}
                    route: {cluster: origin, prefix_rewrite: /p/}
                """, "");
        Curl.Result r = Curl.run(url("/exact?q=/exact"));
        assertEquals(200, r.status(), r.err());
        assertEquals("/rewritten?q=/exact", origin.last().uri());
        assertEquals("/exact?q=/exact", origin.last().header("x-envoy-original-path"));
        r = Curl.run(url("/re42?x=1"));
        assertEquals(200, r.status(), r.err());
        assertEquals("/from-regex?x=1", origin.last().uri());
        r = Curl.run(url("/pre/a/b?c"));
        assertEquals(200, r.status(), r.err());
        assertEquals("/p/a/b?c", origin.last().uri());
    }

    @Test
    void aRoutesHeaderMutationsDoNotMakeARequestAnUpgrade() {
        // The upgrade is the connection manager's decision, on the client's headers (none configured here): a route that
        // adds Upgrade and Connection does not make a plain request an upgrade, and they stay on this hop.
        start("""
                - name: all
                  domains: ["*"]
                  routes:
                  - match: {prefix: /}
                    route: {cluster: origin}
                    request_headers_to_add:
                    - header: {key: upgrade, value: websocket}
                      append_action: OVERWRITE_IF_EXISTS_OR_ADD
                    - header: {key: connection, value: upgrade}
                      append_action: OVERWRITE_IF_EXISTS_OR_ADD
                """, "");
        Curl.Result r = Curl.run(url("/echo"));
        assertEquals(200, r.status(), r.err());
        Origin.Seen seen = origin.last();
        assertNull(seen.header("upgrade"), "the route's Upgrade stays on this hop");
        assertNull(seen.header("connection"));
    }

    @Test
    void methodAuthorityAndQueryParameterMatchersChooseTheRoute() {
        start("""
                - name: all
                  domains: ["*"]
                  routes:
                  - match:
                      prefix: /
                      headers:
                      - {name: ":method", string_match: {exact: GET}}
                      - {name: x-canary, present_match: true, invert_match: true}
                      query_parameters:
                      - {name: v, string_match: {exact: "2"}}
                    direct_response: {status: 200, body: {inline_string: get-v2}}
                  - match:
                      prefix: /
                      headers:
                      - {name: ":authority", string_match: {prefix: shop.}}
                    direct_response: {status: 200, body: {inline_string: shop}}
                  - match:
                      prefix: /
                      headers:
                      - {name: ":method", string_match: {exact: GET}}
                    direct_response: {status: 200, body: {inline_string: get}}
                """, "");
        assertEquals("get-v2", Curl.run(url("/x?v=2")).body());
        assertEquals("get", Curl.run(url("/x?v=3")).body(), "the query parameter must match");
        assertEquals("get", Curl.run("-H", "x-canary: 1", url("/x?v=2")).body(), "an inverted header matcher excludes");
        Curl.Result post = Curl.run("-X", "POST", url("/x?v=2"));
        assertEquals(404, post.status(), "a route with method GET never matches a POST");
        assertEquals("shop", Curl.run("-X", "POST", "-H", "host: shop.example.com", url("/x")).body());
    }

    private static String location(Curl.Result r) {
        return r.out().lines().filter(l -> l.toLowerCase(java.util.Locale.ROOT).startsWith("location: "))
                .map(l -> l.substring(10).trim()).findFirst().orElse("(none) " + r.out());
    }

    @Test
    void redirectBuildsTheLocationAsEnvoyDoes() {
        start("""
                - name: all
                  domains: ["*"]
                  routes:
                  - match: {prefix: /old}
                    redirect: {host_redirect: other.example.com, path_redirect: /new, response_code: FOUND}
                  - match: {prefix: /secure}
                    redirect: {https_redirect: true}
                  - match: {prefix: /moved/}
                    redirect: {prefix_rewrite: /now/, port_redirect: 8080}
                """, "");
        Curl.Result found = Curl.run("-o", "/dev/null", "-D", "-", url("/old/page?q=1"));
        assertEquals(302, found.status());
        assertEquals("http://other.example.com/new?q=1", location(found));
        Curl.Result secure = Curl.run("-o", "/dev/null", "-D", "-", "-H", "host: shop.example.com:80",
                url("/secure/x"));
        assertEquals(301, secure.status());
        assertEquals("https://shop.example.com/secure/x", location(secure));
        Curl.Result moved = Curl.run("-o", "/dev/null", "-D", "-", "-H", "host: shop.example.com",
                url("/moved/a"));
        assertEquals("http://shop.example.com:8080/now/a", location(moved));
        assertTrue(origin.seen().isEmpty(), "a redirect never reaches the origin");
    }

    @Test
    void requireTlsRedirectsPlainHttpBeforeRouting() {
        start("""
                - name: all
                  domains: ["*"]
                  require_tls: ALL
                  routes:
                  - match: {prefix: /}
                    route: {cluster: origin}
                """, "");
        Curl.Result r = Curl.run("-o", "/dev/null", "-D", "-", "-H", "host: shop.example.com", url("/a?b=c"));
        assertEquals(301, r.status());
        assertEquals("https://shop.example.com/a?b=c", location(r));
        assertTrue(origin.seen().isEmpty());
    }

    @Test
    void maxRequestsPerConnectionClosesTheUpstreamConnectionAfterThatMany() {
        start("""
                - name: all
                  domains: ["*"]
                  routes:
                  - match: {prefix: /}
                    route: {cluster: origin}
                """, "max_requests_per_connection: 1");
        Curl.Result r = Curl.run(url("/echo"), url("/echo"), url("/echo"));
        assertEquals(0, r.exitCode(), r.err());
        List<Origin.Seen> seen = origin.seen();
        assertEquals(3, seen.size());
        assertNotEquals(seen.get(0).peer().getPort(), seen.get(1).peer().getPort(), "a new connection per request");
        assertNotEquals(seen.get(1).peer().getPort(), seen.get(2).peer().getPort());
        // Each connection took its one allowed stream: upstream_cx_max_requests, as Envoy's attachStreamToClient
        // (source/common/conn_pool/conn_pool_base.cc) counts it.
        assertTrue(adminStats().contains("cluster.origin.upstream_cx_max_requests: 3\n"), adminStats());
    }

    @Test
    void aConnectionIsCountedInUpstreamCxMaxRequestsOnceItTakesItsLastStream() {
        start("""
                - name: all
                  domains: ["*"]
                  routes:
                  - match: {prefix: /}
                    route: {cluster: origin}
                """, "max_requests_per_connection: 2");
        assertEquals(0, Curl.run(url("/echo")).exitCode());
        assertTrue(adminStats().contains("cluster.origin.upstream_cx_max_requests: 0\n"), "one stream of two: pooled");
        assertEquals(0, Curl.run(url("/echo")).exitCode());
        assertTrue(adminStats().contains("cluster.origin.upstream_cx_max_requests: 1\n"), adminStats());
        assertEquals(0, Curl.run(url("/echo")).exitCode());
        List<Origin.Seen> seen = origin.seen();
        assertEquals(seen.get(0).peer().getPort(), seen.get(1).peer().getPort(), "two streams on the first connection");
        assertNotEquals(seen.get(1).peer().getPort(), seen.get(2).peer().getPort(), "then a new one");
        assertTrue(adminStats().contains("cluster.origin.upstream_cx_max_requests: 1\n"), adminStats());
    }

    private String adminStats() {
        return Curl.run("http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort() + "/stats?filter=upstream_cx_max_requests")
                .body();
    }

    @Test
    void mirrorSendsAShadowWithTheShadowHostAndBodyAndDropsItsAnswer() throws Exception {
        try (Origin shadow = Origin.start()) {
            start("""
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: /never}
                        route:
                          cluster: origin
                          request_mirror_policies:
                          - cluster: shadow
                            runtime_fraction: {default_value: {numerator: 0, denominator: HUNDRED}}
                      - match: {prefix: /}
                        route:
                          cluster: origin
                          request_mirror_policies:
                          - cluster: shadow
                            runtime_fraction: {default_value: {numerator: 1000000, denominator: MILLION}}
                    """, "", """
                    - name: shadow
                      connect_timeout: 1s
                      load_assignment:
                        cluster_name: shadow
                        endpoints:
                        - lb_endpoints:
                          - endpoint:
                              address: {socket_address: {address: 127.0.0.1, port_value: %d}}
                    """.formatted(shadow.port()));
            for (int i = 0; i < 3; i++) {
                assertEquals(200, Curl.run(url("/never")).status());
            }
            Curl.Result r = Curl.run("-H", "host: httpbin:8000", "--data-binary", "hello", url("/upload"));
            assertEquals(200, r.status(), r.err());
            assertEquals("{\"received\":5}", r.body(), "the client gets the primary's answer");
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (shadow.seen().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1, shadow.seen().size(), "0% never mirrors, 100% always does");
            Origin.Seen s = shadow.last();
            assertEquals("httpbin-shadow:8000", s.header("host"), "Envoy puts -shadow before the port");
            assertEquals("POST", s.method());
            assertEquals("5", s.header("content-length"));
            assertEquals("httpbin:8000", origin.last().header("host"), "the primary keeps its host");
            while (proxy.stats().counters().getOrDefault("cluster.shadow.upstream_rq_total", 0L) < 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1L, proxy.stats().counters().get("cluster.shadow.upstream_rq_total"));
        }
    }
}
