package io.sourcemesh.proxy.tcp;

import static io.sourcemesh.proxy.testing.Configs.chain;
import static io.sourcemesh.proxy.testing.Configs.fileLog;
import static io.sourcemesh.proxy.testing.Configs.listener;
import static io.sourcemesh.proxy.testing.Configs.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.config.TcpProxyConfig;
import io.sourcemesh.proxy.config.WeightedCluster;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.upstream.RingPicks;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tcp_proxy's {@code hash_policy} {@code source_ip} and {@code max_downstream_connection_duration} on real loopback
 * sockets, as Envoy's source/common/tcp_proxy/tcp_proxy.cc (the load balancer context's computeHashKey from
 * source/common/network/hash_policy.cc's SourceIpHashMethod; onMaxDownstreamConnectionDuration) and
 * test/common/tcp_proxy/tcp_proxy_test.cc. Three endpoints of a ring_hash cluster each say their name to whoever
 * connects; clients bind their socket to 127.0.0.x to be different sources.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpProxyHashPolicyTest {
    private static final int ENDPOINTS = 3;
    private static final int SOURCES = 16;

    @TempDir
    Path dir;
    private final List<ServerSocket> backends = new ArrayList<>();
    private Proxy proxy;

    @BeforeEach
    void endpoints() throws IOException {
        for (int i = 0; i < ENDPOINTS; i++) {
            ServerSocket s = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            backends.add(s);
            byte[] name = ("endpoint-" + i + "\n").getBytes(StandardCharsets.US_ASCII);
            Thread.ofVirtual().start(() -> {
                while (true) {
                    try {
                        Socket c = s.accept();
                        Thread.ofVirtual().start(() -> {
                            try (c) {
                                c.getOutputStream().write(name);
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
    }

    @AfterEach
    void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        for (ServerSocket s : backends) {
            s.close();
        }
    }

    @ParameterizedTest(name = "weighted_clusters={0}")
    @ValueSource(booleans = {false, true})
    void sourceIpKeepsEachClientOnOneEndpoint(boolean weighted) throws IOException {
        start(tcpProxy(weighted, true, Optional.empty(), Optional.empty()), List.of());
        Map<String, Set<String>> seen = new HashMap<>();
        for (int source = 0; source < SOURCES; source++) {
            String from = "127.0.0." + (11 + source);
            for (int i = 0; i < 4; i++) {
                seen.computeIfAbsent(from, k -> new HashSet<>()).add(endpointFor(from));
            }
        }
        seen.forEach((from, endpoints) -> assertEquals(1, endpoints.size(), from + " reached " + endpoints));
        Set<String> all = new HashSet<>();
        seen.values().forEach(all::addAll);
        assertTrue(all.size() >= 2, "sixteen sources are spread over the ring, not all on one endpoint: " + all);
    }

    @Test
    void withoutHashPolicyOneClientIsSpread() throws IOException {
        // Envoy's tcp_proxy without hash_policy gives the ring no key: a host at random per connection.
        start(tcpProxy(false, false, Optional.empty(), Optional.empty()), List.of());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 30; i++) {
            seen.add(endpointFor("127.0.0.11"));
        }
        assertTrue(seen.size() >= 2, "one source, thirty connections, one endpoint: " + seen);
    }

    @Test
    void theKeyIsTheAddressThePROXYHeaderGives() throws IOException {
        // SourceIpHashMethod reads the connection's remote address, which the proxy_protocol listener filter set.
        start(tcpProxy(false, true, Optional.empty(), Optional.empty()),
                List.of(new ListenerFilterConfig.ProxyProtocol("envoy.filters.listener.proxy_protocol", false, List.of())));
        Set<String> all = new HashSet<>();
        for (int source = 0; source < SOURCES; source++) {
            String claimed = "10.9.0." + (1 + source);
            Set<String> one = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                one.add(endpointVia("127.0.0." + (11 + i), "PROXY TCP4 " + claimed + " 127.0.0.1 40000 80\r\n"));
            }
            assertEquals(1, one.size(), claimed + " (from four socket addresses) reached " + one);
            all.addAll(one);
        }
        assertTrue(all.size() >= 2, "sixteen PROXY sources all on one endpoint: " + all);
    }

    /**
     * The key is the address as Envoy prints it (SourceIpHashMethod hashes Address::Ip::addressAsString, inet_ntop's
     * form): "2001:db8::7", not Java's "2001:db8:0:0:0:0:0:7", so an IPv6 client reaches the endpoint Envoy's ring gives.
     */
    @Test
    void anIpv6SourceIsKeyedAsEnvoyPrintsIt() throws IOException {
        start(tcpProxy(false, true, Optional.empty(), Optional.empty()),
                List.of(new ListenerFilterConfig.ProxyProtocol("envoy.filters.listener.proxy_protocol", false, List.of())));
        List<InetSocketAddress> endpoints = backends.stream().map(b -> (InetSocketAddress) b.getLocalSocketAddress()).toList();
        int differs = 0;
        for (int source = 1; source <= SOURCES; source++) {
            String claimed = "2001:db8::" + Integer.toHexString(source);
            int expected = endpoints.indexOf(RingPicks.pick(endpoints, claimed));
            if (expected != endpoints.indexOf(RingPicks.pick(endpoints, new java.net.InetSocketAddress(claimed, 0)
                    .getAddress().getHostAddress()))) {
                differs++;
            }
            assertEquals("endpoint-" + expected,
                    endpointVia("127.0.0.11", "PROXY TCP6 " + claimed + " ::1 40000 80\r\n"), claimed);
        }
        assertTrue(differs > 0, "Java's form and Envoy's put at least one of these sources on another endpoint");
    }

    @Test
    void maxDownstreamConnectionDurationClosesTheConnection() throws Exception {
        Path log = dir.resolve("tcp.log");
        start(tcpProxy(false, false, Optional.of(Duration.ofMillis(300)), Optional.of(log)), List.of());
        try (Socket c = client("127.0.0.11")) {
            long started = System.nanoTime();
            InputStream in = c.getInputStream();
            assertTrue(line(in).startsWith("endpoint-"));
            c.getOutputStream().write("still here".getBytes(StandardCharsets.US_ASCII)); // activity: not idle
            assertEquals(-1, in.read(), "the proxy closes the connection at its maximum duration");
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(ms >= 250 && ms < 10_000, "closed after " + ms + " ms");
        }
        String line = LogFiles.awaitLine(log);
        assertTrue(line.contains("\"flags\":\"DT\""), line);
        assertTrue(line.contains("\"details\":null"), "the close reason is no termination details: " + line);
        // Envoy's onMaxDownstreamConnectionDuration (source/common/tcp_proxy/tcp_proxy.cc) closes with LocalCloseReasons'
        // MaxConnectionDurationReached (envoy/stream_info/stream_info.h): %DOWNSTREAM_LOCAL_CLOSE_REASON%.
        assertTrue(line.contains("\"reason\":\"max_connection_duration_reached\""), line);
        assertEquals(1L, proxy.stats().counters().get("tcp.tcp.max_downstream_connection_duration"));
    }

    @Test
    void aConnectionTheClientClosesHasNoLocalCloseReason() throws Exception {
        Path log = dir.resolve("tcp.log");
        start(tcpProxy(false, false, Optional.of(Duration.ofSeconds(30)), Optional.of(log)), List.of());
        try (Socket c = client("127.0.0.11")) {
            assertTrue(line(c.getInputStream()).startsWith("endpoint-"));
        }
        String line = LogFiles.awaitLine(log);
        assertTrue(line.contains("\"flags\":\"-\""), line);
        assertTrue(line.contains("\"reason\":null"), "the proxy did not close it: " + line);
    }

    @Test
    void withoutMaxDurationTheConnectionStaysOpen() throws Exception {
        start(tcpProxy(false, false, Optional.empty(), Optional.empty()), List.of());
        try (Socket c = client("127.0.0.11")) {
            assertTrue(line(c.getInputStream()).startsWith("endpoint-"));
            c.setSoTimeout(600);
            assertThrowsTimeout(c.getInputStream());
        }
    }

    private static void assertThrowsTimeout(InputStream in) {
        org.junit.jupiter.api.Assertions.assertThrows(java.net.SocketTimeoutException.class, in::read,
                "open past 600 ms: no maximum duration");
    }

    private TcpProxyConfig tcpProxy(boolean weighted, boolean hashSourceIp, Optional<Duration> maxDuration,
            Optional<Path> log) {
        List<io.sourcemesh.proxy.config.AccessLogConfig> logs = log.map(p -> List.of(fileLog(p,
                Map.<String, Object>of("flags", "%RESPONSE_FLAGS%", "details", "%CONNECTION_TERMINATION_DETAILS%",
                        "reason", "%DOWNSTREAM_LOCAL_CLOSE_REASON%"))))
                .orElse(List.of());
        return new TcpProxyConfig("envoy.filters.network.tcp_proxy", "tcp",
                weighted ? Optional.empty() : Optional.of("ring"),
                weighted ? List.of(new WeightedCluster("ring", 1)) : List.of(), Optional.empty(), logs,
                hashSourceIp, maxDuration);
    }

    private void start(TcpProxyConfig tcpProxy, List<ListenerFilterConfig> listenerFilters) {
        ClusterConfig ring = new ClusterConfig("ring", ClusterConfig.DiscoveryType.STATIC, ClusterConfig.LbPolicy.RING_HASH,
                backends.stream().map(b -> new ClusterConfig.Endpoint((InetSocketAddress) b.getLocalSocketAddress(), 1)).toList(),
                Duration.ofSeconds(2), Optional.empty(), ClusterConfig.RingHash.defaults(), Optional.empty(), 0);
        proxy = Proxy.start(proxy(List.of(listener("tcp", "127.0.0.1", listenerFilters, chain(tcpProxy))), List.of(ring)), 1);
    }

    /** The endpoint a connection from {@code from} reaches. */
    private String endpointFor(String from) throws IOException {
        try (Socket c = client(from)) {
            return line(c.getInputStream());
        }
    }

    /** The endpoint a connection from {@code from} reaches, its first bytes {@code header}. */
    private String endpointVia(String from, String header) throws IOException {
        try (Socket c = client(from)) {
            c.getOutputStream().write(header.getBytes(StandardCharsets.US_ASCII));
            return line(c.getInputStream());
        }
    }

    private Socket client(String from) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", proxy.listenerAddress("tcp").getPort()));
        s.setSoTimeout(10_000);
        return s;
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("closed before a whole line: " + b);
            }
            b.append((char) c);
        }
        return b.toString();
    }
}
