package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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
 * The connection manager's upgrade decision, as Envoy's: made on the client's headers before any HTTP filter runs,
 * whatever the route does. An upgrade type its upgrade_configs do not allow is answered 403 (upgrade_failed) on a
 * forwarding, direct-response or redirect route and where no route matches; an allowed one reaches the route.
 */
class UpgradeDecisionEndToEndTest {
    private static final String[] WEBSOCKET = {"-H", "Upgrade: websocket", "-H", "Connection: Upgrade"};

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

    /**
     * One listener "http": {@code hcmFields} beside stat_prefix, {@code filter} (if any) before the router, a virtual host for
     * "*" with a direct response on /local, a redirect on /moved, the origin on /up (nothing else matches), and an
     * access log of each request's code and details.
     */
    private void start(String hcmFields, String filter) {
        HttpBootstrap b = HttpBootstrap.toOrigin(origin.port()).statPrefix("up").hcmFields(hcmFields)
                .accessLog(dir.resolve("access.log"), "%RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %UPSTREAM_HOST%")
                .routes("""
                        - match: {prefix: /local}
                          direct_response: {status: 200, body: {inline_string: local}}
                        - match: {prefix: /moved}
                          redirect: {path_redirect: /elsewhere}
                        - match: {prefix: /up}
                          route: {cluster: origin}
                        """);
        if (!filter.isEmpty()) {
            b.httpFilter(filter);
        }
        String yaml = b.yaml();
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    private static String[] upgrade(String... args) {
        String[] all = java.util.Arrays.copyOf(WEBSOCKET, WEBSOCKET.length + args.length);
        System.arraycopy(args, 0, all, WEBSOCKET.length, args.length);
        return all;
    }

    private long refusedUpgrades() {
        return proxy.stats().counters().getOrDefault("http.up.downstream_rq_ws_on_non_ws_route", 0L);
    }

    @Test
    void anUpgradeNotAllowedIsRefusedWhateverTheRouteDoes() throws Exception {
        start("", "");
        assertEquals(403, Curl.run(upgrade(url("/local"))).status(), "a direct response is no exception");
        assertEquals(403, Curl.run(upgrade(url("/moved"))).status(), "nor is a redirect");
        assertEquals(403, Curl.run(upgrade(url("/nowhere"))).status(), "nor a request no route matches");
        assertEquals(403, Curl.run(upgrade(url("/up"))).status());
        assertEquals(4, refusedUpgrades());
        // The same requests without the upgrade get what their routes say.
        assertEquals(200, Curl.run(url("/local")).status());
        assertEquals(301, Curl.run(url("/moved")).status());
        assertEquals(404, Curl.run(url("/nowhere")).status());
        assertEquals(200, Curl.run(url("/up")).status());
        List<String> lines = LogFiles.awaitLines(dir.resolve("access.log"), 8);
        assertEquals(List.of("403 upgrade_failed -", "403 upgrade_failed -", "403 upgrade_failed -", "403 upgrade_failed -"),
                lines.subList(0, 4), "refused by the connection manager: no route's answer, no upstream host");
        assertEquals("404 route_not_found -", lines.get(6));
    }

    @Test
    void aConnectIsAnUpgradeNoConfigAllows() throws Exception {
        start("upgrade_configs: [{upgrade_type: websocket}, {upgrade_type: CONNECT, enabled: false}]", "");
        // A proxy tunnel's request, refused before any route; what follows it is never parsed as a request.
        String authority = "127.0.0.1:" + origin.port();
        RawSocket.Reply r = RawSocket.exchange(proxy.listenerAddress("http").getPort(), "CONNECT " + authority + " HTTP/1.1\r\nHost: "
                + authority + "\r\n\r\nGET /up HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("HTTP/1.1 403 Forbidden", r.statusLine(), r.text());
        assertEquals(1, r.responses(), r.text());
        assertEquals(1, refusedUpgrades());
        assertEquals(List.of("403 upgrade_failed -"), LogFiles.awaitLines(dir.resolve("access.log"), 1));
        assertEquals(0, origin.seen().size(), "nothing reached the origin");
    }

    @Test
    void anAllowedUpgradeReachesItsRoute() {
        start("upgrade_configs: [{upgrade_type: websocket}]", "");
        Curl.Result local = Curl.run(upgrade(url("/local")));
        assertEquals(200, local.status(), local.err());
        assertEquals("local", local.body());
        assertEquals(301, Curl.run(upgrade(url("/moved"))).status());
        assertEquals(404, Curl.run(upgrade(url("/nowhere"))).status());
        assertEquals(0, refusedUpgrades());
    }

    @Test
    void theFiltersDoNotRunForARefusedUpgrade() throws Exception {
        // RBAC that allows nothing: a request it sees is denied with its own details.
        start("", """
                name: envoy.filters.http.rbac
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                  rules: {action: ALLOW, policies: {}}
                """);
        assertEquals(403, Curl.run(upgrade(url("/up"))).status());
        assertEquals(403, Curl.run(url("/up")).status());
        List<String> lines = LogFiles.awaitLines(dir.resolve("access.log"), 2);
        assertEquals("403 upgrade_failed -", lines.get(0), "the connection manager answered before RBAC ran");
        assertEquals("403 rbac_access_denied_matched_policy[none] -", lines.get(1));
    }

    @Test
    void upgradeIsAConnectionTokenNotASubstring() {
        start("", "");
        // "x-upgrade-hint" names a header, not the upgrade token: a plain request, whose Upgrade stays on this hop.
        Curl.Result plain = Curl.run("-H", "Upgrade: websocket", "-H", "Connection: x-upgrade-hint", url("/up"));
        assertEquals(200, plain.status(), plain.err());
        assertNull(origin.last().header("upgrade"));
        // A browser's "keep-alive, Upgrade", and the token in a second Connection header, are upgrades.
        assertEquals(403, Curl.run("-H", "Upgrade: websocket", "-H", "Connection: keep-alive, Upgrade", url("/up")).status());
        assertEquals(403, Curl.run("-H", "Upgrade: websocket", "-H", "Connection: keep-alive", "-H", "Connection: upgrade",
                url("/up")).status());
        assertEquals(2, refusedUpgrades());
    }
}
