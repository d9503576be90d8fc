package io.sourcemesh.proxy.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.H2Frames;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.Origin;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A connection the proxy closes while it handles the client's bytes is closed at once, on io_uring as on epoll: a raw
 * client sends its bytes, then only waits, and sees the close (FIN or RST) within 2 s, not at the idle timeout.
 */
class CloseFromReadTest {
    private static final int BOUND_MILLIS = 2_000;
    private Origin origin;
    private Proxy proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    /** A malformed HTTP/1 request: 400, then the close (Envoy's codec error). */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll"})
    void aMalformedHttp1RequestIs400AndClosedAtOnce(String kind) throws Exception {
        start(kind);
        String got = sendThenWait("GET / HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(got.startsWith("HTTP/1.1 400 Bad Request"), got);
    }

    /** An HTTP/2 flood (two empty DATA frames in a row) terminates the connection, without a GOAWAY, at once. */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll"})
    void anHttp2FloodIsClosedAtOnce(String kind) throws Exception {
        start(kind);
        sendThenWait(new H2Frames().preface()
                .headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/", ":authority", "app")
                .data(1, false, "").data(1, false, "").bytes());
        assertEquals(1L, proxy.stats().counters().getOrDefault("http2.inbound_empty_frames_flood", 0L));
    }

    private void start(String kind) throws Exception {
        assumeTrue(!kind.equals("io_uring") || IoUring.isAvailable(), () -> "io_uring unavailable: " + IoUring.unavailabilityCause());
        assumeTrue(!kind.equals("epoll") || Epoll.isAvailable(), () -> "epoll unavailable: " + Epoll.unavailabilityCause());
        origin = Origin.start();
        String before = System.getProperty(Transport.PROPERTY);
        System.setProperty(Transport.PROPERTY, kind);
        try {
            proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.port()).yaml()), 1);
        } finally {
            if (before == null) {
                System.clearProperty(Transport.PROPERTY);
            } else {
                System.setProperty(Transport.PROPERTY, before);
            }
        }
        assertEquals(kind, proxy.transport().kind().label());
    }

    /** Sends {@code bytes}, then reads until the proxy closes; what it sent back. Fails if still open after the bound. */
    private String sendThenWait(byte[] bytes) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(proxy.listenerAddress("http"));
            s.getOutputStream().write(bytes);
            s.setSoTimeout(BOUND_MILLIS);
            long start = System.nanoTime();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    got.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("still open " + (System.nanoTime() - start) / 1_000_000 + " ms after the client's bytes; got: "
                        + got.toString(StandardCharsets.ISO_8859_1), e);
            } catch (IOException e) {
                // RST: closed
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
