package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * A cluster's common_http_protocol_options.idle_timeout, as Envoy's codec client idle timer
 * (CodecClient::onIdleTimeout, source/common/http/codec_client.cc): an upstream connection with no
 * stream for that long is counted in upstream_cx_idle_timeout and closed; one in use is not; 0
 * turns it off. The origin answers each request with the number of the connection it came on.
 */
class UpstreamIdleTimeoutTest {
    private Proxy proxy;
    private ServerSocket origin;
    private final AtomicInteger connections = new AtomicInteger();
    /** Per connection number: when the origin last answered on it, and a latch opened when the proxy closed it. */
    private final Map<Integer, Long> answeredAt = new ConcurrentHashMap<>();
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

    private String start(String idleTimeout) throws IOException {
        origin = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    Socket s = origin.accept();
                    int n = connections.incrementAndGet();
                    closed.put(n, new CountDownLatch(1));
                    Thread.ofVirtual().start(() -> serve(s, n));
                }
            } catch (IOException over) {
                // the test is over
            }
        });
        String yaml = HttpBootstrap.toOrigin(origin.getLocalPort())
                .clusterFields("common_http_protocol_options: {idle_timeout: " + idleTimeout + "}")
                .yaml();
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort();
    }

    /** Keep-alive answers "conn-N"; a request for /slow is answered after 1.5 seconds. */
    private void serve(Socket s, int n) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String target;
            while ((target = readHead(in)) != null) {
                if (target.startsWith("/slow")) {
                    Thread.sleep(1500);
                }
                String body = "conn-" + n;
                answeredAt.put(n, System.nanoTime());
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

    private long idleTimeouts() {
        return proxy.stats().counters().getOrDefault("cluster.origin.upstream_cx_idle_timeout", 0L);
    }

    @Test
    void anIdlePooledConnectionIsClosedAfterTheIdleTimeoutAndReplaced() throws Exception {
        String url = start("1s");
        assertEquals("conn-1", Curl.run(url + "/").body());
        assertEquals("conn-1", Curl.run(url + "/").body(), "pooled while idle for less than the timeout");
        assertTrue(closed.get(1).await(10, TimeUnit.SECONDS), "the idle connection is closed by the proxy, unasked");
        long idleFor = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - answeredAt.get(1));
        assertTrue(idleFor >= 900, "closed after " + idleFor + " ms idle");
        assertEquals(1, idleTimeouts());
        assertEquals("conn-2", Curl.run(url + "/").body(), "the next request on a new connection");
        assertEquals(2, proxy.stats().counters().get("cluster.origin.upstream_cx_total"));
    }

    @Test
    void aConnectionInUseIsNotCutAndTimesOutOnlyOnceIdle() throws Exception {
        String url = start("0.5s");
        Curl.Result slow = Curl.run(url + "/slow");
        assertEquals(200, slow.status(), slow.err());
        assertEquals("conn-1", slow.body(), "a response slower than the idle timeout is answered whole");
        assertEquals(0, idleTimeouts(), "a connection with a stream is not idle");
        assertEquals("conn-1", Curl.run(url + "/").body(), "and goes back to the pool");
        assertTrue(closed.get(1).await(10, TimeUnit.SECONDS), "then idles out");
        assertEquals(1, idleTimeouts());
    }

    @Test
    void zeroTurnsTheIdleTimeoutOff() throws Exception {
        String url = start("0s");
        assertEquals("conn-1", Curl.run(url + "/").body());
        assertFalse(closed.get(1).await(1500, TimeUnit.MILLISECONDS), "no idle timeout: the pooled connection stays");
        assertEquals("conn-1", Curl.run(url + "/").body());
        assertEquals(0, idleTimeouts());
    }
}
