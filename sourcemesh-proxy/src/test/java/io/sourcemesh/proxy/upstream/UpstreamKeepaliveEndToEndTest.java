package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.Origin;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A cluster's upstream_connection_options.tcp_keepalive on the proxy's real upstream sockets (Envoy's
 * buildTcpKeepaliveOptions, source/common/network/socket_option_factory.cc), for the HTTP router's connections and
 * tcp_proxy's, on each transport: the kernel's view of the proxy's connection to the origin (ss) shows the keepalive
 * timer running from the configured idle time; without the option the socket has no keepalive timer.
 */
class UpstreamKeepaliveEndToEndTest {
    private static final String KEEPALIVE =
            "upstream_connection_options: {tcp_keepalive: {keepalive_time: 7, keepalive_interval: 3, keepalive_probes: 4}}";

    private Proxy proxy;
    private Origin origin;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void theRoutersPooledUpstreamConnectionKeepsAlive(String kind) throws Exception {
        origin = Origin.start();
        proxy = onTransport(kind, HttpBootstrap.toOrigin(origin.port()).clusterFields(KEEPALIVE).yaml());
        assertEquals(200, Curl.run("-o", "/dev/null", "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/").status());
        double idle = keepaliveTimerSeconds(origin.port());
        assertTrue(idle > 0 && idle <= 7, "the pooled upstream's keepalive timer, from the 7s idle time: " + idle);
    }

    @Test
    void withoutTheOptionTheUpstreamSocketHasNoKeepalive() throws Exception {
        origin = Origin.start();
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.port()).yaml()), 1);
        assertEquals(200, Curl.run("-o", "/dev/null", "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/").status());
        assertEquals(-1, keepaliveTimerSeconds(origin.port()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void tcpProxysUpstreamConnectionKeepsAlive(String kind) throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (Socket s = backend.accept(); InputStream in = s.getInputStream()) {
                    in.transferTo(java.io.OutputStream.nullOutputStream()); // held until the proxy closes
                } catch (IOException e) {
                    // the test ended
                }
            });
            proxy = onTransport(kind, """
                    static_resources:
                      listeners:
                      - name: tcp
                        address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                        filter_chains:
                        - filters:
                          - name: envoy.filters.network.tcp_proxy
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                              stat_prefix: tcp
                              cluster: backend
                      clusters:
                      - name: backend
                        connect_timeout: 1s
                        %s
                        load_assignment:
                          cluster_name: backend
                          endpoints:
                          - lb_endpoints:
                            - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                    """.formatted(KEEPALIVE, backend.getLocalPort()));
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.listenerAddress("tcp").getPort())) {
                client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                double idle = -1;
                for (int i = 0; i < 50 && idle < 0; i++) {
                    Thread.sleep(20); // the proxy connects upstream once the client is accepted
                    idle = keepaliveTimerSeconds(backend.getLocalPort());
                }
                assertTrue(idle > 0 && idle <= 7, "tcp_proxy's upstream keepalive timer, from the 7s idle time: " + idle);
            }
        }
    }

    /** A proxy from {@code yaml} on the transport {@code kind} names (where it loads). */
    private static Proxy onTransport(String kind, String yaml) throws Exception {
        assumeTrue(!kind.equals("io_uring") || IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        assumeTrue(!kind.equals("epoll") || Epoll.isAvailable());
        String before = System.getProperty(Transport.PROPERTY);
        System.setProperty(Transport.PROPERTY, kind);
        try {
            Proxy p = Proxy.start(BootstrapLoader.loadText(yaml), 1);
            assumeTrue(p.transport().kind().label().equals(kind), p.transport()::description);
            return p;
        } finally {
            if (before == null) {
                System.clearProperty(Transport.PROPERTY);
            } else {
                System.setProperty(Transport.PROPERTY, before);
            }
        }
    }

    /**
     * The seconds left on the keepalive timer of the established connection to {@code port} on 127.0.0.1 (the proxy's
     * side: its destination is the port), as ss shows it — iproute2's print_ms_timer writes {@code 119min},
     * {@code 45sec}, {@code 6.960ms} (6 s 960 ms) or {@code 960ms} — or -1 when the socket has no keepalive timer.
     */
    static double keepaliveTimerSeconds(int port) throws Exception {
        Process p = new ProcessBuilder("ss", "-tnoH", "state", "established", "( dport = :" + port + " )")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        assertTrue(out.contains(":" + port), "ss shows the proxy's connection to " + port + ": " + out);
        Matcher m = Pattern.compile("timer:\\(keepalive,(?:(\\d+)min)?(?:(\\d+)(?:sec|\\.))?(?:(\\d+)ms)?,").matcher(out);
        if (!m.find()) {
            return -1;
        }
        return number(m.group(1)) * 60 + number(m.group(2)) + number(m.group(3)) / 1000;
    }

    private static double number(String digits) {
        return digits == null ? 0 : Double.parseDouble(digits);
    }
}
