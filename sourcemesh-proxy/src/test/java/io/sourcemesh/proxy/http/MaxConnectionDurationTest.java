package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A cluster's common_http_protocol_options.max_connection_duration, as Envoy's connection pool
 * (ActiveClient::onConnectionDurationTimeout, source/common/conn_pool/conn_pool_base.cc): once an
 * upstream connection is that old it drains — counted in upstream_cx_max_duration_reached, closed
 * at once when idle, else after the response in flight, and given no new request. The origin
 * answers each request with the number of the connection it came on.
 */
class MaxConnectionDurationTest {
    private Proxy proxy;
    private ServerSocket origin;
    private final AtomicInteger connections = new AtomicInteger();
    /** Per connection number: when the origin accepted it, and a latch opened when the proxy closed it. */
    private final Map<Integer, Long> acceptedAt = new ConcurrentHashMap<>();
    private final Map<Integer, CountDownLatch> closed = new ConcurrentHashMap<>();

    @AfterEach
    void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private String start(String maxConnectionDuration) throws IOException {
        origin = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    Socket s = origin.accept();
                    int n = connections.incrementAndGet();
                    acceptedAt.put(n, System.nanoTime());
                    closed.put(n, new CountDownLatch(1));
                    Thread.ofVirtual().start(() -> serve(s, n));
                }
            } catch (IOException over) {
                // the test is over
            }
        });
        String yaml = HttpBootstrap.toOrigin(origin.getLocalPort())
                .clusterFields("common_http_protocol_options: {max_connection_duration: " + maxConnectionDuration + "}")
                .yaml();
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort();
    }

    /** Keep-alive answers "conn-N"; a request for /slow is answered after a second. */
    private void serve(Socket s, int n) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String target;
            while ((target = readHead(in)) != null) {
                if (target.startsWith("/slow")) {
                    Thread.sleep(1000);
                }
                String body = "conn-" + n;
                out.write(("HTTP/1.1 200 OK\r\ncontent-length: " + body.length() + "\r\n\r\n" + body)
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // a reset is a close too
        } finally {
            closed.get(n).countDown();
        }
    }

    /** The request target of the next request head, or null at the end of the stream. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        for (int b; (b = in.read()) != -1; ) {
            head.append((char) b);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                return head.toString().split(" ")[1];
            }
        }
        return null;
    }

    private long maxDurationReached() {
        return proxy.stats().counters().getOrDefault("cluster.origin.upstream_cx_max_duration_reached", 0L);
    }

    @Test
    void anIdlePooledConnectionIsClosedAtItsMaximumDurationAndReplaced() throws Exception {
        String url = start("2s"); // room for two curls on a loaded machine before it
        assertEquals("conn-1", Curl.run(url + "/").body());
        assertEquals("conn-1", Curl.run(url + "/").body(), "pooled while younger than the duration");
        assertTrue(closed.get(1).await(10, TimeUnit.SECONDS), "the idle connection is closed by the proxy, unasked");
        long lived = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - acceptedAt.get(1));
        assertTrue(lived >= 1900, "closed after " + lived + " ms");
        assertEquals(1, maxDurationReached());
        assertEquals("conn-2", Curl.run(url + "/").body(), "the next request on a new connection");
        assertEquals(2, proxy.stats().counters().get("cluster.origin.upstream_cx_total"));
    }

    @Test
    void aRequestInFlightFinishesThenItsConnectionIsClosedNotPooled() throws Exception {
        String url = start("0.3s");
        Curl.Result slow = Curl.run(url + "/slow");
        assertEquals(200, slow.status(), slow.err());
        assertEquals("conn-1", slow.body(), "answered whole on the connection that outlived its duration");
        assertEquals(1, maxDurationReached());
        assertTrue(closed.get(1).await(10, TimeUnit.SECONDS), "closed once its response was done");
        assertEquals("conn-2", Curl.run(url + "/").body(), "a drained connection takes no new request");
        assertEquals(1, maxDurationReached(), "the new connection is younger than its duration");
    }
}
