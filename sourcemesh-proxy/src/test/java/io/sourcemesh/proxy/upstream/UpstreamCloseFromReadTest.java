package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * An upstream connection the proxy closes while it handles the upstream's bytes reaches the upstream at once (well
 * within 1 s), on io_uring as on epoll, with the upstream sending nothing more: an HTTP/1 upstream answers while the
 * client's large body is still being written to it (our write in flight: the upstream does not read it), and an HTTP/2
 * upstream says GOAWAY right after its SETTINGS. These passed before every upstream connection closed through
 * NextTurnClose too (the proxy's own closes here come after the read, or with no read asked within it); they guard
 * the paths the connector's first handler now covers (l4's UpstreamCloseFromReadTest shows the case it fixes).
 */
class UpstreamCloseFromReadTest {
    private static final int BOUND_MILLIS = 1_000;
    private static final int BODY = 8 << 20;
    private Proxy proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // Connection: close before the whole request went up: the stream's end closes the connection
        "io_uring|connectionClose|HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok",
        // a malformed status line: 502, and the connection closed from the codec's read (upstream_cx_protocol_error)
        "io_uring|malformed|HTTP/1.1 2x0 Bad\\r\\n\\r\\n",
        // bytes past the response: a protocol error closes the connection from the read that brought them
        "io_uring|extraBytes|HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nokJUNK",
        "epoll|connectionClose|HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok",
        "epoll|malformed|HTTP/1.1 2x0 Bad\\r\\n\\r\\n",
        "epoll|extraBytes|HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nokJUNK"})
    void anUpstreamClosedFromItsReadSeesTheCloseAtOnce(String kind, String how, String reply) throws Exception {
        assumeTrue(!kind.equals("io_uring") || IoUring.isAvailable(), () -> "io_uring unavailable: " + IoUring.unavailabilityCause());
        assumeTrue(!kind.equals("epoll") || Epoll.isAvailable(), () -> "epoll unavailable: " + Epoll.unavailabilityCause());
        try (ServerSocket origin = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            start(kind, origin.getLocalPort());
            try (Socket client = new Socket()) {
                client.connect(proxy.listenerAddress("http"));
                Thread uploader = Thread.ofVirtual().start(() -> {
                    try {
                        OutputStream out = client.getOutputStream();
                        out.write(("POST / HTTP/1.1\r\nHost: app\r\nContent-Length: " + BODY + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        byte[] chunk = new byte[64 << 10];
                        for (int sent = 0; sent < BODY; sent += chunk.length) {
                            out.write(chunk);
                        }
                    } catch (IOException e) {
                        // the proxy stopped taking the body: expected once the upstream answered
                    }
                });
                try (Socket up = origin.accept()) {
                    InputStream in = up.getInputStream();
                    readHead(in);
                    in.readNBytes(64 << 10); // some of the body: the rest stays in flight, unread
                    up.getOutputStream().write(reply.replace("\\r\\n", "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    Thread.sleep(200); // not read meanwhile: the proxy's write of the body stays in the ring
                    up.setSoTimeout(BOUND_MILLIS);
                    byte[] buf = new byte[64 << 10];
                    long last = System.nanoTime();
                    try {
                        while (in.read(buf) >= 0) {
                            last = System.nanoTime(); // body bytes written before the close
                        }
                    } catch (SocketTimeoutException e) {
                        throw new AssertionError(kind + " " + how + ": the upstream connection still open "
                                + (System.nanoTime() - last) / 1_000_000 + " ms after its last byte", e);
                    } catch (IOException e) {
                        // RST: closed
                    }
                } finally {
                    client.close();
                    uploader.join();
                }
            }
            assertEquals(how.equals("connectionClose") ? 0L : 1L,
                    proxy.stats().counters().getOrDefault("cluster.origin.upstream_cx_protocol_error", 0L), how);
        }
    }

    /**
     * An HTTP/2 upstream that allows no stream (SETTINGS MAX_CONCURRENT_STREAMS 0) and says GOAWAY in the same bytes: the
     * proxy acknowledges the SETTINGS (a write in flight), refuses the waiting request and closes the connection, all
     * within that read.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"io_uring", "epoll"})
    void anHttp2UpstreamClosedFromItsGoAwaySeesTheCloseAtOnce(String kind) throws Exception {
        assumeTrue(!kind.equals("io_uring") || IoUring.isAvailable(), () -> "io_uring unavailable: " + IoUring.unavailabilityCause());
        assumeTrue(!kind.equals("epoll") || Epoll.isAvailable(), () -> "epoll unavailable: " + Epoll.unavailabilityCause());
        try (ServerSocket origin = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            start(kind, HttpBootstrap.toOrigin(origin.getLocalPort()).clusterFields("http2_protocol_options: {}"));
            try (Socket client = new Socket()) {
                client.connect(proxy.listenerAddress("http"));
                client.getOutputStream().write("GET / HTTP/1.1\r\nHost: app\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                try (Socket up = origin.accept()) {
                    InputStream in = up.getInputStream();
                    in.readNBytes(24 + 9); // the preface and the SETTINGS frame's header
                    java.nio.ByteBuffer frames = java.nio.ByteBuffer.allocate(9 + 6 + 9 + 8);
                    frames.put(new byte[] {0, 0, 6, 0x4, 0, 0, 0, 0, 0}).putShort((short) 0x3).putInt(0); // SETTINGS: no stream
                    frames.put(new byte[] {0, 0, 8, 0x7, 0, 0, 0, 0, 0}).putInt(0).putInt(0); // GOAWAY, last stream 0, NO_ERROR
                    up.getOutputStream().write(frames.array());
                    up.setSoTimeout(BOUND_MILLIS);
                    byte[] buf = new byte[4096];
                    long last = System.nanoTime();
                    try {
                        while (in.read(buf) >= 0) {
                            last = System.nanoTime(); // the rest of the proxy's SETTINGS, its ACK of ours
                        }
                    } catch (SocketTimeoutException e) {
                        throw new AssertionError(kind + ": the HTTP/2 upstream connection still open "
                                + (System.nanoTime() - last) / 1_000_000 + " ms after its last byte", e);
                    } catch (IOException e) {
                        // RST: closed
                    }
                }
            }
        }
    }

    private void start(String kind, int originPort) throws Exception {
        start(kind, HttpBootstrap.toOrigin(originPort));
    }

    private void start(String kind, HttpBootstrap bootstrap) throws Exception {
        String before = System.getProperty(Transport.PROPERTY);
        System.setProperty(Transport.PROPERTY, kind);
        try {
            proxy = Proxy.start(BootstrapLoader.loadText(bootstrap.yaml()), 1);
        } finally {
            if (before == null) {
                System.clearProperty(Transport.PROPERTY);
            } else {
                System.setProperty(Transport.PROPERTY, before);
            }
        }
        assertEquals(kind, proxy.transport().kind().label());
    }

    private static void readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        for (int b; (b = in.read()) >= 0; ) {
            head.write(b);
            if (head.size() >= 4 && head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                return;
            }
        }
        throw new IOException("the proxy closed before a request head");
    }
}
