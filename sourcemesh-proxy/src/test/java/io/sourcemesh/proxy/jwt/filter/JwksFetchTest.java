package io.sourcemesh.proxy.jwt.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.netty.channel.EventLoop;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.jwt.RemoteJwks;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.RefusingPort;
import io.sourcemesh.proxy.testing.TestJwts;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One JWKS fetch against real loopback servers through a proxy's clusters: its connection counted as the cluster's
 * others, a refused connect ending each try once, a timed-out fetch closing its connection, a done fetch's timer gone.
 */
class JwksFetchTest {
    private final TestJwts key = TestJwts.rsa("k1");
    private final AtomicInteger requests = new AtomicInteger();
    private final CountDownLatch hold = new CountDownLatch(1);
    private HttpServer keys;
    private RefusingPort refused;
    private ServerSocket silent;
    private final CountDownLatch silentSawEof = new CountDownLatch(1);
    private Proxy proxy;

    @BeforeEach
    void start() throws Exception {
        keys = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        keys.setExecutor(Executors.newCachedThreadPool());
        keys.createContext("/held", ex -> {
            requests.incrementAndGet();
            try {
                hold.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = key.jwks().getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        keys.start();
        refused = RefusingPort.open();
        // Accepts, reads the request and never answers; counts down when the proxy closes the connection.
        silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            try (Socket s = silent.accept(); InputStream in = s.getInputStream()) {
                while (in.read() >= 0) {
                    // the request, then nothing until EOF
                }
                silentSawEof.countDown();
            } catch (IOException e) {
                silentSawEof.countDown(); // a reset is a close too
            }
        });
        proxy = Proxy.start(BootstrapLoader.loadText("""
                admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
                static_resources:
                  clusters:
                  - name: keys
                    connect_timeout: 1s
                    circuit_breakers: {thresholds: [{max_connections: 1, track_remaining: true}]}
                    load_assignment:
                      cluster_name: keys
                      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: @KEYS@}}}}]}]
                  - name: refused
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: refused
                      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: @REFUSED@}}}}]}]
                  - name: silent
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: silent
                      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: @SILENT@}}}}]}]
                """.replace("@KEYS@", Integer.toString(keys.getAddress().getPort()))
                .replace("@REFUSED@", Integer.toString(refused.port()))
                .replace("@SILENT@", Integer.toString(silent.getLocalPort()))), 1);
    }

    @AfterEach
    void stop() throws IOException {
        hold.countDown();
        if (proxy != null) {
            proxy.close();
        }
        keys.stop(0);
        refused.close();
        silent.close();
    }

    private static RemoteJwks config(String cluster, String path, Duration timeout, RemoteJwks.Retry retry) {
        return new RemoteJwks(URI.create("http://jwks.example" + path), cluster, timeout, RemoteJwks.DEFAULT_CACHE_DURATION,
                null, retry);
    }

    /** Begun on the proxy's event loop, as a request's or async_fetch's fetch is. */
    private JwksFetch begin(RemoteJwks config) throws Exception {
        EventLoop loop = proxy.clusters().connector().loops().next();
        return loop.submit(() -> JwksFetch.begin(proxy.clusters(), config, loop)).get(10, TimeUnit.SECONDS);
    }

    private long stat(String name) {
        String stats = Curl.run("http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort()
                + "/stats?filter=" + name.replace(".", "\\.") + "$").body();
        for (String line : stats.split("\n")) {
            if (line.startsWith(name + ": ")) {
                return Long.parseLong(line.substring(name.length() + 2).trim());
            }
        }
        throw new AssertionError(name + " not in /stats: " + stats);
    }

    private void awaitStat(String name, long value) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (stat(name) != value && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(value, stat(name), name);
    }

    @Test
    void theFetchConnectionIsCountedAsTheClustersOthers() throws Exception {
        JwksFetch f = begin(config("keys", "/held", Duration.ofSeconds(10), null));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (requests.get() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(1, stat("cluster.keys.upstream_cx_active"));
        assertEquals(0, stat("cluster.keys.circuit_breakers.default.remaining_cx"), "the breaker's one connection is the fetch's");
        assertEquals(1, stat("cluster.keys.circuit_breakers.default.cx_open"));
        hold.countDown();
        assertNotNull(f.result().get(10, TimeUnit.SECONDS));
        assertEquals(1, stat("cluster.keys.upstream_cx_total"));
        assertEquals(1, stat("cluster.keys.upstream_cx_http1_total"));
        awaitStat("cluster.keys.upstream_cx_active", 0);
        assertEquals(1, stat("cluster.keys.circuit_breakers.default.remaining_cx"), "given back when it closed");
        assertEquals(0, stat("cluster.keys.upstream_rq_active"));
    }

    @Test
    void aFetchThatSucceededCancelsItsTimeout() throws Exception {
        hold.countDown();
        JwksFetch f = begin(config("keys", "/held", Duration.ofMinutes(5), null));
        assertNotNull(f.result().get(10, TimeUnit.SECONDS));
        assertTrue(f.timer().isCancelled(), "no five-minute timer left holding a finished fetch");
    }

    @Test
    void aRefusedConnectEndsEachTryExactlyOnce() throws Exception {
        JwksFetch f = begin(config("refused", "/keys", Duration.ofSeconds(10),
                new RemoteJwks.Retry(3, Duration.ofMillis(10), Duration.ofMillis(50))));
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.result().get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("refused"), e.getCause().getMessage());
        Thread.sleep(300); // a try scheduled twice would run meanwhile
        assertEquals(4, stat("cluster.refused.upstream_cx_connect_fail"), "the first try and three retries, each once");
        assertEquals(3, stat("cluster.refused.upstream_rq_retry"));
        assertEquals(4, stat("cluster.refused.upstream_cx_total"));
        assertEquals(0, stat("cluster.refused.upstream_cx_active"));
        assertEquals(0, stat("cluster.refused.upstream_rq_active"));
        assertTrue(f.timer().isCancelled());
    }

    @Test
    void aFetchThatTimesOutClosesItsConnection() throws Exception {
        JwksFetch f = begin(config("silent", "/keys", Duration.ofMillis(500), null));
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.result().get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("timed out after 500 ms"), e.getCause().getMessage());
        assertTrue(silentSawEof.await(5, TimeUnit.SECONDS), "the server saw the proxy close the timed-out fetch's connection");
        awaitStat("cluster.silent.upstream_cx_active", 0);
        assertEquals(0, stat("cluster.silent.upstream_rq_active"));
        assertEquals(0, stat("cluster.silent.upstream_cx_connect_fail"), "it connected: the timeout is no connect failure");
    }
}
