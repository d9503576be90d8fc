package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RawSocket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection manager's path transformations (normalize_path, merge_slashes, path_with_escaped_slashes_action) as
 * Envoy makes them, seen where they matter: an RBAC rule on the path, the path the upstream gets, the access log.
 * Istio's "path normalization in authorization policy" is the user's question here: which request paths can reach
 * /admin past a DENY rule on it.
 */
class PathNormalizationEndToEndTest {
    @TempDir
    Path dir;
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

    /** One listener "http" with {@code hcmFields}, a DENY rule on url_path prefix /admin, everything else to the origin. */
    private void start(String hcmFields) {
        proxy = Proxy.start(BootstrapLoader.loadText(yaml(hcmFields)), 1);
    }

    private String yaml(String hcmFields) {
        return HttpBootstrap.toOrigin(origin.port()).statPrefix("paths").hcmFields(hcmFields)
                .accessLog(dir.resolve("access.log"),
                        "%RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %REQ(:PATH)% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%")
                .httpFilter("""
                        name: envoy.filters.http.rbac
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                          rules:
                            action: DENY
                            policies:
                              admin:
                                permissions: [{url_path: {path: {prefix: /admin}}}]
                                principals: [{any: true}]
                        """).yaml();
    }

    private RawSocket.Reply get(String target, String... headers) throws Exception {
        return RawSocket.exchange(proxy.listenerAddress("http").getPort(),
                "GET " + target + " HTTP/1.1\r\nHost: app\r\n" + String.join("", headers) + "Connection: close\r\n\r\n");
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault("http.paths." + name, 0L);
    }

    private List<String> log(int n) throws Exception {
        return LogFiles.awaitLines(dir.resolve("access.log"), n);
    }

    @Test
    void normalizePathIsEnvoysCanonicalization() throws Exception {
        start("normalize_path: true");
        assertEquals("HTTP/1.1 403 Forbidden", get("/public/%2e%2e/admin").statusLine(), "a dot segment, encoded");
        assertEquals("HTTP/1.1 403 Forbidden", get("/public\\..\\admin").statusLine(), "backslashes are slashes");
        // A '%' that begins no escape, then escapes that decode to "2e": one decoding more would make it "..". Envoy
        // writes that '%' as %25; written as it came, an upstream decoding once more reaches /admin past the rule.
        assertEquals("HTTP/1.1 200 OK", get("/a/%%32%65%%32%65/admin").statusLine());
        assertEquals("/a/%252e%252e/admin", origin.last().uri());
        assertEquals("HTTP/1.1 200 OK", get("/Case/%2f%2F%7e").statusLine());
        assertEquals("/Case/%2f%2F~", origin.last().uri(), "an escape that stays keeps its case; unreserved ones are decoded");
        assertEquals(List.of("403 rbac_access_denied_matched_policy[admin] /admin 127.0.0.1",
                "403 rbac_access_denied_matched_policy[admin] /admin 127.0.0.1"), log(2).subList(0, 2),
                "the log shows the path the rule saw");
    }

    /** A CONNECT has no :path to Envoy: no transformation runs on its authority, and the log's path is unset. */
    @Test
    void aConnectsAuthorityIsNoPath() throws Exception {
        start("normalize_path: true\nmerge_slashes: true\npath_with_escaped_slashes_action: REJECT_REQUEST");
        RawSocket.Reply r = RawSocket.exchange(proxy.listenerAddress("http").getPort(),
                "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        assertEquals("HTTP/1.1 403 Forbidden", r.statusLine(), r.text());
        assertEquals(List.of("403 upgrade_failed - 127.0.0.1"), log(1));
        assertEquals(0, counter("downstream_rq_failed_path_normalization"));
    }

    @Test
    void aPathWithANulIsRefusedBeforeTheClientAddressIsDecided() throws Exception {
        start("normalize_path: true");
        RawSocket.Reply r = get("/x/%00/admin", "X-Forwarded-For: 203.0.113.9\r\n");
        assertEquals("HTTP/1.1 400 Bad Request", r.statusLine(), r.text());
        assertEquals(1, counter("downstream_rq_failed_path_normalization"));
        assertEquals(0, origin.seen().size());
        // Envoy normalizes before mutateRequestHeaders: the refused request's remote address is the peer's, not XFF's.
        assertEquals("400 path_normalization_failed /x/%00/admin 127.0.0.1", log(1).get(0));
        assertEquals("HTTP/1.1 200 OK", get("/ok", "X-Forwarded-For: 203.0.113.9\r\n").statusLine());
        assertEquals("200 via_upstream /ok 203.0.113.9", log(2).get(1), "the same XFF decides an accepted request's address");
    }

    @Test
    void aByteAboveAsciiInTheTargetIsACodecError() throws Exception {
        // Envoy's codec takes '!'..'~' in a target. Netty's decoder read the byte as a Latin-1 char and its encoder wrote
        // that char upstream as two UTF-8 bytes: the client's é (0xE9) reached the origin as Ã© (0xC3 0xA9).
        start("");
        RawSocket.Reply r = get("/caf\u00e9?q=\u00e9");
        assertEquals("HTTP/1.1 400 Bad Request", r.statusLine(), r.text());
        assertTrue(r.closed(), "a codec error closes the connection");
        assertEquals(0, origin.seen().size());
        assertTrue(log(1).get(0).startsWith("400 http1.codec_error "), log(1).get(0));
    }

    @Test
    void escapedSlashesAreKeptByDefault() throws Exception {
        start("normalize_path: true");
        assertEquals("HTTP/1.1 200 OK", get("/public%2F..%2Fadmin").statusLine());
        assertEquals("/public%2F..%2Fadmin", origin.last().uri(), "KEEP_UNCHANGED, Envoy's default: an upstream that "
                + "decodes %2F reaches /admin — what the other actions are for");
    }

    @Test
    void rejectRequestRefusesAnEscapedSlashInThePath() throws Exception {
        start("normalize_path: true\npath_with_escaped_slashes_action: REJECT_REQUEST");
        assertEquals("HTTP/1.1 400 Bad Request", get("/public%2F..%2Fadmin").statusLine());
        assertEquals("HTTP/1.1 400 Bad Request", get("/public%5c..%5cadmin").statusLine());
        assertEquals("HTTP/1.1 200 OK", get("/ok?next=%2Fadmin").statusLine(), "the query is not the path");
        assertEquals(2, counter("downstream_rq_failed_path_normalization"));
        assertEquals(List.of("/ok?next=%2Fadmin"), origin.seen().stream().map(Origin.Seen::uri).toList());
    }

    @Test
    void unescapeAndRedirectSendsTheClientToTheNormalizedPath() throws Exception {
        start("normalize_path: true\npath_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT");
        RawSocket.Reply r = get("/public%2F..%2Fadmin?x=1");
        assertEquals("HTTP/1.1 307 Temporary Redirect", r.statusLine(), r.text());
        assertTrue(r.text().contains("location: /admin?x=1\r\n"), r.text());
        assertEquals(1, counter("downstream_rq_redirected_with_normalized_path"));
        // gRPC clients do not follow redirects: Envoy refuses instead.
        assertEquals("HTTP/1.1 400 Bad Request", get("/svc%2FMethod", "Content-Type: application/grpc+proto\r\n").statusLine());
        assertEquals(1, counter("downstream_rq_failed_path_normalization"));
        assertEquals("HTTP/1.1 200 OK", get("/a/b").statusLine(), "a path without one goes on");
        assertEquals(List.of("/a/b"), origin.seen().stream().map(Origin.Seen::uri).toList());
        assertEquals("307 path_normalization_failed /admin?x=1 127.0.0.1", log(1).get(0));
    }

    @Test
    void unescapeAndForwardLetsTheRuleSeeTheSlashes() throws Exception {
        start("normalize_path: true\npath_with_escaped_slashes_action: UNESCAPE_AND_FORWARD");
        assertEquals("HTTP/1.1 403 Forbidden", get("/public%2F..%2Fadmin").statusLine());
        assertEquals("HTTP/1.1 200 OK", get("/a%2Fb%5Cc").statusLine());
        assertEquals("/a/b/c", origin.last().uri(), "unescaped, then normalize_path made the backslash a slash");
    }

    @Test
    void mergeSlashesMakesAnEmptySegmentNoWayAround() throws Exception {
        start("normalize_path: true");
        assertEquals("HTTP/1.1 404 Not Found", get("//admin").statusLine(), "without merge_slashes, //admin is not under /admin");
        assertEquals("404 via_upstream //admin 127.0.0.1", log(1).get(0), "it went upstream, whose server has no such page");
        proxy.close();
        proxy = null;
        start("normalize_path: true\nmerge_slashes: true");
        assertEquals("HTTP/1.1 403 Forbidden", get("//admin").statusLine());
        assertEquals("HTTP/1.1 403 Forbidden", get("/public/..//admin").statusLine(), "merged after normalization");
        assertEquals("HTTP/1.1 200 OK", get("/a//b/?q=//x").statusLine());
        assertEquals("/a/b/?q=//x", origin.last().uri());
    }

    @Test
    void theTransformationsAreOffUnlessConfigured() throws Exception {
        start("");
        assertEquals("HTTP/1.1 200 OK", get("/public/%2e%2e/admin").statusLine(), "Envoy's normalize_path default is false");
        assertEquals("/public/%2e%2e/admin", origin.last().uri());
    }

    @Test
    void curlsOwnDotSegmentsNeverReachTheProxy() {
        // curl normalizes "/public/../admin" itself unless told not to; --path-as-is sends it as typed.
        start("normalize_path: true");
        Curl.Result r = Curl.run("--path-as-is", "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/public/../admin");
        assertEquals(403, r.status(), r.err());
    }
}
