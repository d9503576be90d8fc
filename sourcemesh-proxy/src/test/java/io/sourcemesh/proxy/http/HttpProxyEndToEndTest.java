package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP path end to end: real curl → the proxy on loopback → a real origin. */
class HttpProxyEndToEndTest {
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
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            closedPort = s.getLocalPort();
        }
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
}
