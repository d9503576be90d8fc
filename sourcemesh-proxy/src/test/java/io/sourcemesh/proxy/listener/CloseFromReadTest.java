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
 * client sends its bytes, then only waits, and sees the close (FIN or RST) within 2 s, not at the idle timeout. Before
 * the listener's first handler closed through NextTurnClose, the HTTP/2 flood close (the codec's SETTINGS in the ring,
 * the next read asked for) held the connection on io_uring; the other paths here close with no such read asked for.
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

    /** A connection the network RBAC filter denies (Envoy's onData: on the first bytes) is closed at once. */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll"})
    void aConnectionNetworkRbacDeniesIsClosedAtOnce(String kind) throws Exception {
        start(kind, l4("""
                - name: envoy.filters.network.rbac
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                    stat_prefix: tcp.
                    rules:
                      action: ALLOW
                      policies:
                        only-42:
                          permissions: [{any: true}]
                          principals: [{direct_remote_ip: {address_prefix: 127.0.0.42, prefix_len: 32}}]
                """, "ORIGIN_PORT"));
        assertEquals("", sendThenWait("GET / HTTP/1.1\r\nHost: app\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(1L, proxy.stats().counters().getOrDefault("tcp.rbac.denied", 0L), proxy.stats().counters().toString());
        assertTrue(origin.seen().isEmpty(), "the denied bytes never reached the origin");
    }

    /** tcp_proxy whose upstream refuses the connection closes its client at once. */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll"})
    void aTcpProxyWhoseUpstreamConnectFailsClosesAtOnce(String kind) throws Exception {
        int refused;
        try (java.net.ServerSocket gone = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            refused = gone.getLocalPort(); // nothing listens here once it is closed
        }
        start(kind, l4("", Integer.toString(refused)));
        assertEquals("", sendThenWait("hello".getBytes(StandardCharsets.US_ASCII)));
    }

    /** A listener whose one chain is {@code filters} then tcp_proxy to a cluster on {@code port} (ORIGIN_PORT: the origin). */
    private static String l4(String filters, String port) {
        return """
                static_resources:
                  listeners:
                  - name: http
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                FILTERS
                      - name: envoy.filters.network.tcp_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: backend_tcp
                          cluster: backend
                  clusters:
                  - name: backend
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: backend
                      endpoints:
                      - lb_endpoints:
                        - endpoint:
                            address: {socket_address: {address: 127.0.0.1, port_value: PORT}}
                """.replace("FILTERS\n", filters.indent(6)).replace("PORT", port);
    }

    private void start(String kind) throws Exception {
        start(kind, null);
    }

    /** The proxy on {@code kind} with {@code yaml} (ORIGIN_PORT: the origin's), or an HTTP listener to the origin. */
    private void start(String kind, String yaml) throws Exception {
        assumeTrue(!kind.equals("io_uring") || IoUring.isAvailable(), () -> "io_uring unavailable: " + IoUring.unavailabilityCause());
        assumeTrue(!kind.equals("epoll") || Epoll.isAvailable(), () -> "epoll unavailable: " + Epoll.unavailabilityCause());
        origin = Origin.start();
        String before = System.getProperty(Transport.PROPERTY);
        System.setProperty(Transport.PROPERTY, kind);
        try {
            proxy = Proxy.start(BootstrapLoader.loadText(yaml == null ? HttpBootstrap.toOrigin(origin.port()).yaml()
                    : yaml.replace("ORIGIN_PORT", Integer.toString(origin.port()))), 1);
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
