package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RefusingPort;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP path end to end: real curl → the proxy on loopback → a real origin. */
class HttpProxyEndToEndTest {
    private Origin origin;
    private Proxy proxy;
    private final List<RefusingPort> refusing = new java.util.ArrayList<>();

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
        refusing.forEach(RefusingPort::close);
    }

    /** A port that refuses connections until the test ends. */
    private RefusingPort refusing() {
        RefusingPort p = RefusingPort.open();
        refusing.add(p);
        return p;
    }

    private String url(String path) {
        InetSocketAddress a = proxy.listenerAddress("http");
        return "http://127.0.0.1:" + a.getPort() + path;
    }

    private Proxy start(ProxyConfig config) {
        proxy = Proxy.start(config, 1);
        return proxy;
    }

    @Test
    void forwardsAndAppendsTheClientToXForwardedFor() {
        start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), true, List.of())))),
                List.of(staticCluster("origin", origin.address()))));
        Curl.Result r = Curl.run("--interface", "127.0.0.42", url("/echo"));
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(200, r.status());
        assertEquals("127.0.0.42", origin.last().header("x-forwarded-for"));
        assertEquals("127.0.0.1", origin.last().peer().getAddress().getHostAddress());
    }

    @Test
    void keepsUpstreamConnectionsAliveAcrossRequests() {
        start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, List.of())))),
                List.of(staticCluster("origin", origin.address()))));
        Curl.Result r = Curl.run(url("/a"), url("/b"), url("/c"));
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(3, origin.seen().size());
        assertEquals(1, proxy.stats().counters().get("cluster.origin.upstream_cx_total"));
        assertEquals(1, proxy.stats().counters().get("http.ingress_http.downstream_cx_total"));
        assertEquals(3, proxy.stats().counters().get("http.ingress_http.downstream_rq_total"));
        long ports = origin.seen().stream().map(s -> s.peer().getPort()).distinct().count();
        assertEquals(1, ports, "all three requests reached the origin over one upstream connection");
    }

    @Test
    void streamsLargeBodiesBothWays() throws Exception {
        start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, List.of())))),
                List.of(staticCluster("origin", origin.address()))));
        Curl.Result down = Curl.exec(List.of("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url("/bytes/67108864")));
        assertEquals(0, down.exitCode(), down.err());
        assertEquals("200 67108864", down.out());
        java.nio.file.Path big = java.nio.file.Files.createTempFile("upload", ".bin");
        try {
            try (var ch = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(new byte[1]), 32L * 1024 * 1024 - 1);
            }
            Curl.Result up = Curl.run("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + big, url("/upload"));
            assertEquals(0, up.exitCode(), up.err());
            assertEquals("{\"received\":33554432}", up.body());
            Curl.Result upLength = Curl.run("--data-binary", "@" + big, url("/upload"));
            assertEquals("{\"received\":33554432}", upLength.body(), "content-length body; curl sends Expect: 100-continue");
        } finally {
            java.nio.file.Files.delete(big);
        }
    }

    @Test
    void upstreamDownIs503WithUpstreamConnectionFailure() throws Exception {
        int closedPort = refusing().port();
        start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("down"), false, List.of())))),
                List.of(staticCluster("down", new InetSocketAddress("127.0.0.1", closedPort)))));
        Curl.Result r = Curl.run(url("/"));
        assertEquals(503, r.status());
        assertTrue(r.body().startsWith("upstream connect error or disconnect/reset before headers. reset reason: connection failure"), r.body());
        // The proxy keeps serving: the same connection path works for the next client.
        assertEquals(503, Curl.run(url("/")).status());
        assertEquals(2, proxy.stats().counters().get("cluster.down.upstream_cx_connect_fail"));
    }

    @Test
    void noRouteIs404() {
        start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routes(route("only", "/api", forward("origin"))), false, List.of())))),
                List.of(staticCluster("origin", origin.address()))));
        assertEquals(404, Curl.run(url("/other")).status());
        assertEquals(200, Curl.run(url("/api/x")).status());
    }

    @Test
    void upstreamBindConfigMakesTheAppSee127006() {
        start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("inbound"), false, List.of())))),
                List.of(cluster("inbound", Optional.of(new InetSocketAddress("127.0.0.6", 0)), origin.address()))));
        assertEquals(200, Curl.run("--interface", "127.0.0.9", url("/")).status());
        assertEquals("127.0.0.6", origin.last().peer().getAddress().getHostAddress());
    }

    @Test
    void originalSrcMakesTheAppSeeTheClientsOwnAddress() {
        start(proxy(List.of(listener("http", "127.0.0.1",
                        List.of(new ListenerFilterConfig.OriginalSrc("envoy.filters.listener.original_src", 1337, false)),
                        chain(hcm(routeAll("inbound"), false, List.of())))),
                List.of(staticCluster("inbound", origin.address()))));
        assertEquals(200, Curl.run("--interface", "127.0.0.77", url("/")).status());
        assertEquals("127.0.0.77", origin.last().peer().getAddress().getHostAddress());
        assertEquals(200, Curl.run("--interface", "127.0.0.78", url("/")).status());
        assertEquals("127.0.0.78", origin.last().peer().getAddress().getHostAddress(),
                "a connection bound for one client is never reused for another");
    }

    @Test
    void routeTimeoutIs504() {
        start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routes(route("slow", "/", forward("origin", java.time.Duration.ofMillis(300)))), false, List.of())))),
                List.of(staticCluster("origin", origin.address()))));
        Curl.Result r = Curl.run(url("/sleep/2000"));
        assertEquals(504, r.status());
        assertEquals("upstream request timeout", r.body());
    }

    @Test
    void writesIstiosJsonAccessLogLineFieldByField(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path log = dir.resolve("access.log");
        var logs = List.of(fileLog(log, io.sourcemesh.proxy.accesslog.IstioFormats.DEFAULT_JSON));
        start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routes(route("to-origin", "/", forward("origin"))), true, logs)))),
                List.of(cluster("origin", Optional.of(new InetSocketAddress("127.0.0.6", 0)), origin.address()))));
        Curl.Result r = Curl.run("--interface", "127.0.0.42", "-H", "User-Agent: field-test", "-H", "X-Request-Id: rid-1",
                "-H", "X-Forwarded-For: 203.0.113.7", url("/status/echo?x=1"));
        assertEquals(200, r.status(), r.err());
        String line = io.sourcemesh.proxy.testing.LogFiles.awaitLine(log);
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
        int port = proxy.listenerAddress("http").getPort();
        assertEquals("GET", json.get("method").asText());
        assertEquals("/status/echo?x=1", json.get("path").asText());
        assertEquals("HTTP/1.1", json.get("protocol").asText());
        assertEquals(200, json.get("response_code").asInt());
        assertTrue(json.get("response_code").isNumber(), "typed JSON: numbers stay numbers");
        assertEquals("-", json.get("response_flags").asText());
        assertEquals("via_upstream", json.get("response_code_details").asText());
        assertEquals("to-origin", json.get("route_name").asText());
        assertEquals("203.0.113.7,127.0.0.42", json.get("x_forwarded_for").asText());
        assertEquals("field-test", json.get("user_agent").asText());
        assertEquals("127.0.0.1:" + port, json.get("authority").asText());
        assertEquals("origin", json.get("upstream_cluster").asText());
        assertEquals("127.0.0.1:" + origin.port(), json.get("upstream_host").asText());
        assertTrue(json.get("upstream_local_address").asText().startsWith("127.0.0.6:"), line);
        assertEquals("127.0.0.1:" + port, json.get("downstream_local_address").asText());
        assertTrue(json.get("downstream_remote_address").asText().startsWith("127.0.0.42:"), line);
        assertEquals(0, json.get("bytes_received").asInt());
        assertTrue(json.get("bytes_sent").asInt() > 0);
        assertTrue(json.get("duration").isNumber());
        assertTrue(json.get("requested_server_name").isNull());
        assertTrue(json.get("upstream_transport_failure_reason").isNull());
        assertTrue(json.get("start_time").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));
    }

    @Test
    void logsUpstreamFailureAndNoRouteFlags(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path log = dir.resolve("access.log");
        var logs = List.of(fileLog(log, java.util.Map.of("code", "%RESPONSE_CODE%", "flags", "%RESPONSE_FLAGS%",
                "details", "%RESPONSE_CODE_DETAILS%")));
        int closedPort = refusing().port();
        start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routes(route("api", "/api", forward("down"))), false, logs)))),
                List.of(staticCluster("down", new InetSocketAddress("127.0.0.1", closedPort)))));
        assertEquals(503, Curl.run(url("/api")).status());
        var first = new com.fasterxml.jackson.databind.ObjectMapper().readTree(io.sourcemesh.proxy.testing.LogFiles.awaitLine(log));
        assertEquals(503, first.get("code").asInt());
        assertEquals("UF", first.get("flags").asText());
        assertEquals("upstream_reset_before_response_started{connection_failure}", first.get("details").asText());
        assertEquals(404, Curl.run(url("/nowhere")).status());
        java.util.List<String> lines = io.sourcemesh.proxy.testing.LogFiles.awaitLines(log, 2);
        var second = new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines.get(1));
        assertEquals("NR", second.get("flags").asText());
        assertEquals("route_not_found", second.get("details").asText());
    }

    @Test
    void clientGoneMidResponseIsLoggedAsDc(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path log = dir.resolve("access.log");
        var logs = List.of(fileLog(log, java.util.Map.of("flags", "%RESPONSE_FLAGS%")));
        start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, logs)))),
                List.of(staticCluster("origin", origin.address()))));
        Curl.Result r = Curl.run("--max-time", "1", url("/sleep/3000"));
        assertNotEquals(0, r.exitCode());
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(io.sourcemesh.proxy.testing.LogFiles.awaitLine(log));
        assertEquals("DC", json.get("flags").asText());
        assertEquals(200, Curl.run(url("/")).status(), "the proxy keeps serving");
    }


    @Test
    void upgradesArePassedThroughAsARawTunnel() throws Exception {
        try (java.net.ServerSocket upstream = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            // A WebSocket-like origin: answers 101, then echoes bytes upper-cased.
            Thread.ofVirtual().start(() -> {
                try (java.net.Socket s = upstream.accept()) {
                    var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), java.nio.charset.StandardCharsets.ISO_8859_1));
                    StringBuilder head = new StringBuilder();
                    for (String line; (line = in.readLine()) != null && !line.isEmpty(); ) {
                        head.append(line).append('\n');
                    }
                    var out = s.getOutputStream();
                    out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-Upgrade: "
                            + head.toString().toLowerCase().contains("upgrade: websocket") + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                    out.flush();
                    for (int c; (c = in.read()) >= 0; ) {
                        out.write(Character.toUpperCase(c));
                        out.flush();
                    }
                } catch (java.io.IOException e) {
                    // the test's socket closed
                }
            });
            start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("ws"), false, List.of())))),
                    List.of(staticCluster("ws", (InetSocketAddress) upstream.getLocalSocketAddress()))));
            try (java.net.Socket client = new java.net.Socket("127.0.0.1", proxy.listenerAddress("http").getPort())) {
                client.setSoTimeout(5000);
                var out = client.getOutputStream();
                out.write("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                out.flush();
                var in = new java.io.BufferedReader(new java.io.InputStreamReader(client.getInputStream(), java.nio.charset.StandardCharsets.ISO_8859_1));
                assertEquals("HTTP/1.1 101 Switching Protocols", in.readLine());
                String headers = "";
                for (String line; (line = in.readLine()) != null && !line.isEmpty(); ) {
                    headers += line.toLowerCase() + "\n";
                }
                assertTrue(headers.contains("x-seen-upgrade: true"), "the upstream got the Upgrade header: " + headers);
                out.write("hello tunnel\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                out.flush();
                assertEquals("HELLO TUNNEL", in.readLine());
            }
        }
    }

    @Test
    void unconfiguredUpgradeIsRefusedWith403(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path log = dir.resolve("access.log");
        var fields = new java.util.LinkedHashMap<String, Object>(); // in this order in each line
        fields.put("attempts", "%UPSTREAM_REQUEST_ATTEMPT_COUNT%");
        fields.put("details", "%RESPONSE_CODE_DETAILS%");
        fields.put("host", "%UPSTREAM_HOST%");
        var noUpgrades = new io.sourcemesh.proxy.config.HttpConnectionManagerConfig("envoy.filters.network.http_connection_manager",
                "ingress_http", routeAll("origin"), List.of(new io.sourcemesh.proxy.config.HttpFilterConfig.Router("envoy.filters.http.router")),
                false, 0, false, Optional.empty(), false, Optional.empty(), true, false, false, Optional.empty(), Optional.empty(),
                Optional.empty(), List.of(), List.of(fileLog(log, fields)), "SANITIZE", false);
        start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(noUpgrades))), List.of(staticCluster("origin", origin.address()))));
        assertEquals(403, Curl.run("-H", "Upgrade: websocket", "-H", "Connection: Upgrade", url("/")).status());
        assertEquals(200, Curl.run(url("/")).status());
        // Refused by the connection manager, as Envoy's: no try and no upstream host (the next request has both).
        assertEquals(List.of("{\"attempts\":0,\"details\":\"upgrade_failed\",\"host\":null}",
                "{\"attempts\":1,\"details\":\"via_upstream\",\"host\":\"" + origin.address().getAddress().getHostAddress() + ":"
                        + origin.port() + "\"}"), io.sourcemesh.proxy.testing.LogFiles.awaitLines(log, 2),
                "a refused upgrade never went upstream");
    }

    @Test
    void adminListenerServesTheLiveStats() throws Exception {
        var config = new ProxyConfig("test", io.sourcemesh.proxy.config.NodeInfo.unnamed(),
                Optional.of(new io.sourcemesh.proxy.config.AdminConfig(new InetSocketAddress("127.0.0.1", 0))),
                List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, List.of())))),
                List.of(staticCluster("origin", origin.address())), com.google.protobuf.Empty.getDefaultInstance());
        start(config);
        assertEquals(200, Curl.run(url("/")).status());
        String admin = "http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort();
        assertEquals("LIVE\n", Curl.run(admin + "/ready").body());
        String prometheus = Curl.run(admin + "/stats/prometheus").body();
        assertTrue(prometheus.contains("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"origin\"} 1"), prometheus);
        assertTrue(prometheus.contains("envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix=\"ingress_http\"} 1"), prometheus);
        String clusters = Curl.run(admin + "/clusters").body();
        assertTrue(clusters.contains("origin::127.0.0.1:" + origin.port() + "::rq_total::1"), clusters);
        String logging = Curl.run("-X", "POST", admin + "/logging?http=debug").body();
        assertTrue(logging.startsWith("active loggers:\n"), logging);
        assertTrue(logging.contains("  http: debug\n"), logging);
        Curl.run("-X", "POST", admin + "/logging?level=info");
    }

    @Test
    void retriesConnectFailuresAndSaysUrxWhenTheyRunOut(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        int closedPort = refusing().port();
        var retry = Optional.of(new io.sourcemesh.proxy.config.RouteConfig.RetryPolicy(java.util.Set.of("connect-failure"), 2, java.util.Set.of()));
        var withRetries = new io.sourcemesh.proxy.config.RouteConfig.Forward(Optional.of("mixed"), List.of(), Optional.empty(),
                Optional.empty(), Optional.empty(), List.of(), retry);
        var deadOnly = new io.sourcemesh.proxy.config.RouteConfig.Forward(Optional.of("dead"), List.of(), Optional.empty(),
                Optional.empty(), Optional.empty(), List.of(), retry);
        java.nio.file.Path log = dir.resolve("access.log");
        var logs = List.of(fileLog(log, java.util.Map.of("path", "%REQ(:PATH)%", "flags", "%RESPONSE_FLAGS%", "code", "%RESPONSE_CODE%",
                "attempts", "%UPSTREAM_REQUEST_ATTEMPT_COUNT%", "port", "%DOWNSTREAM_REMOTE_PORT%")));
        start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routes(route("dead", "/dead", deadOnly),
                        route("local", "/local", new io.sourcemesh.proxy.config.RouteConfig.DirectResponse(204, Optional.empty())),
                        route("mixed", "/", withRetries)), false, logs)))),
                List.of(staticCluster("mixed", new InetSocketAddress("127.0.0.1", closedPort), origin.address()),
                        staticCluster("dead", new InetSocketAddress("127.0.0.1", closedPort)))));
        for (int i = 0; i < 4; i++) {
            assertEquals(200, Curl.run(url("/ok")).status(), "a refused endpoint is retried on the other one");
        }
        long retried = proxy.stats().counters().get("cluster.mixed.upstream_rq_retry");
        assertTrue(retried >= 1);
        assertEquals(503, Curl.run(url("/dead")).status());
        // one connection: the direct response's stream starts in the info the exhausted one left
        Curl.Result both = Curl.exec(List.of("curl", "-sS", "--max-time", "20", "--noproxy", "*", "-w", "%{http_code}\n",
                url("/dead"), "-o", "/dev/null", url("/local"), "-o", "/dev/null"));
        assertEquals("503\n204\n", both.out());
        List<String> lines = io.sourcemesh.proxy.testing.LogFiles.awaitLines(log, 7);
        assertTrue(lines.get(4).contains("\"flags\":\"UF,URX\""), lines.get(4));
        assertEquals(6, proxy.stats().counters().get("cluster.dead.upstream_cx_connect_fail"), "one try and two retries, twice");
        // %UPSTREAM_REQUEST_ATTEMPT_COUNT%: /ok's tries add up to its requests and retries, /dead's are 3, a direct response's 0
        List<Integer> attempts = lines.stream().map(l -> Integer.valueOf(l.replaceAll(".*\"attempts\":(\\d+).*", "$1"))).toList();
        assertEquals(4 + retried, attempts.subList(0, 4).stream().mapToInt(Integer::intValue).sum(), lines.toString());
        assertEquals(List.of(3, 3, 0), attempts.subList(4, 7), lines.toString());
        assertTrue(lines.get(6).contains("\"path\":\"/local\""), lines.get(6));
        assertEquals(lines.get(5).replaceAll(".*\"port\":(\\d+).*", "$1"), lines.get(6).replaceAll(".*\"port\":(\\d+).*", "$1"),
                "one connection: " + lines.subList(5, 7));
    }
}
