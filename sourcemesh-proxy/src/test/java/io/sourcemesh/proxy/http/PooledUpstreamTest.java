package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.testing.Curl;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A pooled upstream connection keeps a read pending while idle (so its read interest is not
 * switched off and on around every request): what an idle upstream sends is seen at once.
 */
class PooledUpstreamTest {
    private Proxy proxy;
    private ServerSocket origin;
    private Thread acceptor;

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
        if (acceptor != null) {
            acceptor.join(10_000);
        }
    }

    @Test
    void anIdleConnectionThatSpeaksIsClosedNotReusedForTheNextRequest() throws Exception {
        origin = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        CountDownLatch sendStale = new CountDownLatch(1);
        CountDownLatch closedByProxy = new CountDownLatch(1);
        AtomicInteger connections = new AtomicInteger();
        acceptor = Thread.ofPlatform().daemon().start(() -> {
            try {
                while (true) {
                    Socket s = origin.accept();
                    int n = connections.incrementAndGet();
                    Thread.ofVirtual().start(() -> serve(s, n, sendStale, closedByProxy));
                }
            } catch (IOException closed) {
                // the test is over
            }
        });
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, List.of())))),
                List.of(staticCluster("origin", (InetSocketAddress) origin.getLocalSocketAddress()))), 1);
        String url = "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/";

        Curl.Result first = Curl.run(url);
        assertEquals("first200", first.out());
        // The upstream now says something nobody asked for on the pooled connection (a late 408,
        // as servers send before closing an idle keep-alive connection).
        sendStale.countDown();
        assertTrue(closedByProxy.await(20, TimeUnit.SECONDS), "the proxy read the idle connection and closed it");
        Curl.Result second = Curl.run(url);
        assertEquals("second200", second.out(), "the next request is answered on a fresh connection, not with the stale bytes");
        assertEquals(2, proxy.stats().counters().get("cluster.origin.upstream_cx_total"));
    }

    /** Connection 1 answers once, then sends a stray 408 and waits for the proxy to close; later ones answer. */
    private static void serve(Socket s, int n, CountDownLatch sendStale, CountDownLatch closedByProxy) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            do {
                if (!readHead(in)) {
                    return;
                }
                String body = n == 1 ? "first" : "second";
                out.write(("HTTP/1.1 200 OK\r\ncontent-length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } while (n != 1);
            sendStale.await();
            out.write("HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            if (in.read() == -1) {
                closedByProxy.countDown();
            }
        } catch (IOException | InterruptedException e) {
            if (n == 1 && e instanceof java.net.SocketException) {
                closedByProxy.countDown(); // a reset is the proxy closing too
            }
        }
    }

    private static boolean readHead(InputStream in) throws IOException {
        int matched = 0;
        for (int b; (b = in.read()) != -1; ) {
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return true;
            }
        }
        return false;
    }
}
