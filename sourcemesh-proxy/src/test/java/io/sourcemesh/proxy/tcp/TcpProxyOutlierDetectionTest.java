package io.sourcemesh.proxy.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.RefusingPort;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * tcp_proxy feeds outlier detection as Envoy's source/common/tcp_proxy/tcp_proxy.cc: a refused connect is
 * LOCAL_ORIGIN_CONNECT_FAILED (a 503 without split_external_local_origin_errors), a connection made
 * LOCAL_ORIGIN_CONNECT_SUCCESS_FINAL (a 200). Two endpoints, round robin: one refuses, one greets; clients that get
 * no greeting met the refusing one, until it is ejected.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpProxyOutlierDetectionTest {
    private ServerSocket backend;
    private RefusingPort dead;
    private Proxy proxy;

    @BeforeEach
    void endpoints() throws IOException {
        dead = RefusingPort.open();
        backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        ServerSocket s = backend;
        Thread.ofVirtual().start(() -> {
            while (true) {
                try {
                    Socket c = s.accept();
                    Thread.ofVirtual().start(() -> {
                        try (c) {
                            c.getOutputStream().write("hi\n".getBytes(StandardCharsets.US_ASCII));
                            c.getInputStream().transferTo(java.io.OutputStream.nullOutputStream()); // until the proxy closes
                        } catch (IOException e) {
                            // closed by the proxy
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    @AfterEach
    void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        backend.close();
        dead.close();
    }

    @Test
    void refusedConnectsCountAs5xxAndEject() throws IOException {
        start("{consecutive_5xx: 2, base_ejection_time: 60s, max_ejection_percent: 100}");
        List<Boolean> greeted = connections(10);
        assertEquals(2, greeted.stream().filter(g -> !g).count(), "two refused connects, then ejected: " + greeted);
        assertTrue(greeted.subList(4, 10).stream().allMatch(g -> g), greeted.toString());
        assertEquals(1, counter("cluster.backend.outlier_detection.ejections_enforced_consecutive_5xx"));
        assertEquals(2, counter("cluster.backend.upstream_cx_connect_fail"));
    }

    @Test
    void withTheSplitRefusedConnectsCountAsLocalOriginFailures() throws IOException {
        start("{consecutive_5xx: 2, split_external_local_origin_errors: true, consecutive_local_origin_failure: 3, "
                + "enforcing_local_origin_success_rate: 0, base_ejection_time: 60s, max_ejection_percent: 100}");
        List<Boolean> greeted = connections(12);
        assertEquals(3, greeted.stream().filter(g -> !g).count(), "three refused connects, then ejected: " + greeted);
        assertEquals(1, counter("cluster.backend.outlier_detection.ejections_enforced_consecutive_local_origin_failure"));
        assertEquals(0, counter("cluster.backend.outlier_detection.ejections_detected_consecutive_5xx"));
    }

    /** Each client in turn: did the backend's greeting come through (else the proxy closed on a failed connect)? */
    private List<Boolean> connections(int n) throws IOException {
        List<Boolean> greeted = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            try (Socket c = new Socket(InetAddress.getLoopbackAddress(), proxy.listenerAddress("tcp").getPort())) {
                c.setSoTimeout(5_000);
                InputStream in = c.getInputStream();
                byte[] line = in.readNBytes(3);
                greeted.add(new String(line, StandardCharsets.US_ASCII).equals("hi\n"));
            } catch (java.net.SocketException e) {
                greeted.add(false); // closed with a reset: no greeting either
            }
        }
        return greeted;
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault(name, 0L);
    }

    private void start(String outlierDetection) {
        proxy = Proxy.start(BootstrapLoader.loadText("""
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
                    lb_policy: ROUND_ROBIN
                    common_lb_config: {healthy_panic_threshold: {value: 0}}
                    outlier_detection: %s
                    load_assignment:
                      cluster_name: backend
                      endpoints:
                      - lb_endpoints:
                        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                """.formatted(outlierDetection, dead.port(), backend.getLocalPort())), 1);
    }
}
