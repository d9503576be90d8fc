package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RawSocket;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The request-target as Envoy's HTTP/1 codec and connection manager take it: an absolute-form target ("GET
 * http://host/path", a client using the proxy as its HTTP proxy) is the path and Host for everything after — routes,
 * RBAC, the upstream — a malformed one is 400, and a target that is no path (OPTIONS *) is 404.
 */
class RequestTargetEndToEndTest {
    private Origin origin;
    private Proxy proxy;

    @BeforeEach
    void start() throws Exception {
        origin = Origin.start();
        String yaml = """
                static_resources:
                  listeners:
                  - name: http
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: target
                          http_filters:
                          - name: envoy.filters.http.rbac
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                              rules:
                                action: DENY
                                policies:
                                  admin:
                                    permissions: [{url_path: {path: {prefix: /admin}}}]
                                    principals: [{any: true}]
                          - name: envoy.filters.http.router
                            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                          route_config:
                            virtual_hosts:
                            - name: named
                              domains: ["named.example"]
                              routes:
                              - match: {prefix: /}
                                direct_response: {status: 200, body: {inline_string: named}}
                            - name: all
                              domains: ["*"]
                              routes:
                              - match: {safe_regex: {regex: ".*"}}
                                route: {cluster: origin}
                  clusters:
                  - name: origin
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: origin
                      endpoints:
                      - lb_endpoints:
                        - endpoint:
                            address: {socket_address: {address: 127.0.0.1, port_value: %d}}
                """.formatted(origin.port());
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
    }

    @AfterEach
    void stop() {
        proxy.close();
        origin.close();
    }

    private int port() {
        return proxy.listenerAddress("http").getPort();
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault("http.target." + name, 0L);
    }

    @Test
    void anAbsoluteFormTargetMeetsTheRulesOnItsPath() throws Exception {
        // A catch-all regex route matched the whole URL, and the DENY rule on /admin never saw a path starting so.
        RawSocket.Reply denied = RawSocket.exchange(port(), "GET http://app.example/admin/users HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n");
        assertEquals("HTTP/1.1 403 Forbidden", denied.statusLine(), denied.text());
        RawSocket.Reply ok = RawSocket.exchange(port(), "GET http://app.example:8080/ok?q=1 HTTP/1.1\r\nHost: decoy\r\nConnection: close\r\n\r\n");
        assertEquals("HTTP/1.1 200 OK", ok.statusLine(), ok.text());
        Origin.Seen seen = origin.last();
        assertEquals("/ok?q=1", seen.uri(), "the upstream gets the origin-form");
        assertEquals("app.example:8080", seen.header("host"), "the target's authority replaces Host (RFC 9112 §3.2.2)");
        assertEquals(1, origin.seen().size(), "the denied request never went upstream");
    }

    @Test
    void theTargetsAuthorityChoosesTheVirtualHost() throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port(), "GET HTTP://named.example HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n");
        assertEquals("HTTP/1.1 200 OK", r.statusLine(), r.text());
        assertTrue(r.text().endsWith("named"), r.text());
    }

    @Test
    void aClientUsingTheProxyAsItsHttpProxyIsServed() {
        Curl.Result r = Curl.exec(List.of("curl", "-sS", "--max-time", "20", "-x", "http://127.0.0.1:" + port(),
                "http://app.example/hello", "-w", "%{http_code}"));
        assertEquals(200, r.status(), r.err());
        assertEquals("/hello", origin.last().uri());
        assertEquals("app.example", origin.last().header("host"));
    }

    @ParameterizedTest
    @CsvSource({
            "GET admin HTTP/1.1, http1.invalid_url",
            "GET http:///admin HTTP/1.1, http1.invalid_url",
            "GET http://user@app.example/admin HTTP/1.1, http1.invalid_url",
            "GET 1http://app.example/ HTTP/1.1, http1.invalid_url",
            "GET ftp://app.example/admin HTTP/1.1, http1.invalid_scheme"})
    void aTargetThatIsNeitherAPathNorAnHttpUrlIs400(String requestLine, String details) throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port(), requestLine + "\r\nHost: app.example\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.1 400 Bad Request", r.statusLine(), details + ": " + r.text());
        assertTrue(r.closed(), "a codec error closes the connection");
        assertEquals(1, r.responses(), r.text());
        assertEquals(0, origin.seen().size());
    }

    /**
     * Envoy's validate_scheme (on where use_remote_address has no trusted hops): an https:// target over a plaintext
     * connection is the codec's 403 http1.https_url_on_plaintext_connection; behind trusted hops, or without
     * use_remote_address, it is served as a path like an http:// one.
     */
    @Test
    void anHttpsTargetOverPlaintextAtTheEdgeIs403() throws Exception {
        String request = "GET https://app.example/ok HTTP/1.1\r\nHost: app.example\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n";
        java.nio.file.Path log = java.nio.file.Files.createTempFile("target", ".log");
        try (Proxy edge = Proxy.start(BootstrapLoader.loadText(io.sourcemesh.proxy.testing.HttpBootstrap.toOrigin(origin.port())
                .hcmFields("use_remote_address: true").accessLog(log, "%RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %RESPONSE_FLAGS%")
                .yaml()), 1)) {
            RawSocket.Reply r = RawSocket.exchange(edge.listenerAddress("http").getPort(), request);
            assertEquals("HTTP/1.1 403 Forbidden", r.statusLine(), r.text());
            assertTrue(r.closed(), "a codec error closes the connection");
            assertEquals(List.of("403 http1.https_url_on_plaintext_connection DPE"),
                    io.sourcemesh.proxy.testing.LogFiles.awaitLines(log, 1));
        } finally {
            java.nio.file.Files.deleteIfExists(log);
        }
        assertEquals(0, origin.seen().size());
        RawSocket.Reply inner = RawSocket.exchange(port(), "GET https://app.example/ok HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n");
        assertEquals("HTTP/1.1 200 OK", inner.statusLine(), "not the edge: served");
        assertEquals("/ok", origin.last().uri());
    }

    @ParameterizedTest
    @CsvSource({"/public#/../admin", "/admin#top", "/ok?q=1#x", "http://app.example/admin#top"})
    void aTargetWithAFragmentIs400(String target) throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port(), "GET " + target + " HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n");
        assertEquals("HTTP/1.1 400 Bad Request", r.statusLine(), r.text());
        assertEquals(1, counter("downstream_rq_failed_path_normalization"));
        assertEquals(0, origin.seen().size());
    }

    @ParameterizedTest
    @CsvSource({"named.example/admin", "named.example?x=1", "named example"})
    void aHostThatIsNoAuthorityIs400(String host) throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port(), "GET /ok HTTP/1.1\r\nHost: " + host + "\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.1 400 Bad Request", r.statusLine(), r.text());
        assertTrue(r.closed(), "refused as Envoy's codec refuses it: the connection closes");
        assertEquals(1, r.responses(), r.text());
        assertEquals(0, origin.seen().size());
    }

    @Test
    void optionsAsteriskIsNotAPathToServe() throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port(), "OPTIONS * HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n");
        assertEquals("HTTP/1.1 404 Not Found", r.statusLine(), r.text());
        assertEquals(1, counter("downstream_rq_non_relative_path"));
        assertEquals(0, origin.seen().size());
    }
}
