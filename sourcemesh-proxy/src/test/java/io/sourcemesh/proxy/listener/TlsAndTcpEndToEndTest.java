package io.sourcemesh.proxy.listener;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.config.TransportSocketConfig;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.config.FilterChainConfig;
import io.sourcemesh.proxy.config.FilterChainMatch;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.config.TlsContextConfig;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** TLS termination with SNI filter-chain selection, tcp_proxy and listener filters, through real curl and sockets. */
class TlsAndTcpEndToEndTest {
    private Origin origin;
    private io.sourcemesh.proxy.Proxy proxy;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = Origin.start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private static FilterChainConfig tlsChain(String name, List<String> serverNames, TestCertificates.Pem pem, String cluster) {
        FilterChainMatch match = new FilterChainMatch(OptionalInt.empty(), List.of(), serverNames, "", List.of(), List.of(),
                FilterChainMatch.SourceType.ANY, List.of(), List.of());
        TlsContextConfig tls = new TlsContextConfig(List.of(new TlsContextConfig.CertificateConfig(pem.certificate(), pem.privateKey())),
                Optional.empty(), Optional.empty(), List.of("h2", "http/1.1"), Optional.empty(), false);
        return new FilterChainConfig(name, match, new TransportSocketConfig.DownstreamTls(tls), List.of(hcm(routeAll(cluster), true, List.of())));
    }

    @Test
    void terminatesTlsAndPicksTheChainBySni() throws Exception {
        try (Origin other = Origin.start("127.0.0.2")) {
            TestCertificates.Pem a = TestCertificates.selfSigned("a.example.com", "a.example.com");
            TestCertificates.Pem b = TestCertificates.selfSigned("wild", "*.example.org");
            var listener = listener("https", "127.0.0.1",
                    List.of(new ListenerFilterConfig.TlsInspector("envoy.filters.listener.tls_inspector")),
                    tlsChain("a", List.of("a.example.com"), a, "origin-a"),
                    tlsChain("b", List.of("*.example.org"), b, "origin-b"));
            proxy = Proxy.start(proxy(List.of(listener), List.of(staticCluster("origin-a", origin.address()),
                    staticCluster("origin-b", other.address()))), 1);
            int port = proxy.listenerAddress("https").getPort();

            Curl.Result ra = Curl.run("-k", "--resolve", "a.example.com:" + port + ":127.0.0.1", "https://a.example.com:" + port + "/x");
            assertEquals(200, ra.status(), ra.err());
            assertEquals(1, origin.seen().size());
            assertEquals("https", origin.last().header("x-forwarded-proto"));

            Curl.Result rb = Curl.run("-k", "-v", "--resolve", "svc.example.org:" + port + ":127.0.0.1", "https://svc.example.org:" + port + "/y");
            assertEquals(200, rb.status(), rb.err());
            assertEquals(1, other.seen().size(), "the wildcard chain sent it to the second origin");
            assertTrue(rb.err().contains("CN=wild"), "the wildcard chain's certificate was served");

            Curl.Result tls12 = Curl.run("-k", "--tls-max", "1.2", "--resolve", "a.example.com:" + port + ":127.0.0.1", "https://a.example.com:" + port + "/");
            assertEquals(200, tls12.status(), tls12.err());

            Curl.Result none = Curl.run("-k", "--resolve", "c.example.net:" + port + ":127.0.0.1", "https://c.example.net:" + port + "/");
            assertNotEquals(0, none.exitCode(), "no chain matches: the connection is closed");
        }
    }

    @Test
    void tlsProtocolBoundsAreEnforced() {
        TestCertificates.Pem pem = TestCertificates.selfSigned("a.example.com", "a.example.com");
        // As config.TlsTranslator gives them: tls_maximum_protocol_version TLSv1_2, and a chain with minimum TLSv1_3.
        FilterChainMatch only12 = new FilterChainMatch(OptionalInt.empty(), List.of(), List.of("max12.example.com"), "", List.of(),
                List.of(), FilterChainMatch.SourceType.ANY, List.of(), List.of());
        FilterChainMatch only13 = new FilterChainMatch(OptionalInt.empty(), List.of(), List.of("min13.example.com"), "", List.of(),
                List.of(), FilterChainMatch.SourceType.ANY, List.of(), List.of());
        var cert = List.of(new TlsContextConfig.CertificateConfig(pem.certificate(), pem.privateKey()));
        var max12 = new FilterChainConfig("max12", only12, new TransportSocketConfig.DownstreamTls(new TlsContextConfig(cert,
                Optional.empty(), Optional.of("TLSv1.2"), List.of(), Optional.empty(), false)),
                List.of(hcm(routeAll("origin"), true, List.of())));
        var min13 = new FilterChainConfig("min13", only13, new TransportSocketConfig.DownstreamTls(new TlsContextConfig(cert,
                Optional.of("TLSv1.3"), Optional.empty(), List.of(), Optional.empty(), false)),
                List.of(hcm(routeAll("origin"), true, List.of())));
        var listener = listener("https", "127.0.0.1", List.of(new ListenerFilterConfig.TlsInspector("envoy.filters.listener.tls_inspector")),
                max12, min13);
        proxy = Proxy.start(proxy(List.of(listener), List.of(staticCluster("origin", origin.address()))), 1);
        int port = proxy.listenerAddress("https").getPort();
        String max12Url = "https://max12.example.com:" + port + "/";
        String resolve12 = "max12.example.com:" + port + ":127.0.0.1";
        assertEquals(200, Curl.run("-k", "--resolve", resolve12, max12Url).status(), "TLS 1.2 is offered");
        assertNotEquals(0, Curl.run("-k", "--tlsv1.3", "--resolve", resolve12, max12Url).exitCode(), "TLS 1.3 is above the maximum");
        String min13Url = "https://min13.example.com:" + port + "/";
        String resolve13 = "min13.example.com:" + port + ":127.0.0.1";
        assertEquals(200, Curl.run("-k", "--resolve", resolve13, min13Url).status(), "TLS 1.3 is offered");
        assertNotEquals(0, Curl.run("-k", "--tls-max", "1.2", "--resolve", resolve13, min13Url).exitCode(),
                "TLS 1.2 is below the minimum");
    }

    /**
     * tls_params.cipher_suites narrows the TLS 1.2 suites offered (ECDHE-ECDSA-AES256-GCM-SHA384 only; the key is EC): a client offering
     * just another one fails the handshake, one offering it is served; TLS 1.3's suites stay (no cipher list narrows them).
     * The same client is served by a chain without cipher_suites.
     */
    @Test
    void cipherSuitesNarrowTheTls12SuitesOffered() {
        TestCertificates.Pem pem = TestCertificates.selfSigned("a.example.com", "a.example.com");
        var cert = List.of(new TlsContextConfig.CertificateConfig(pem.certificate(), pem.privateKey()));
        FilterChainMatch narrow = new FilterChainMatch(OptionalInt.empty(), List.of(), List.of("narrow.example.com"), "", List.of(),
                List.of(), FilterChainMatch.SourceType.ANY, List.of(), List.of());
        FilterChainMatch wide = new FilterChainMatch(OptionalInt.empty(), List.of(), List.of("wide.example.com"), "", List.of(),
                List.of(), FilterChainMatch.SourceType.ANY, List.of(), List.of());
        var narrowChain = new FilterChainConfig("narrow", narrow, new TransportSocketConfig.DownstreamTls(new TlsContextConfig(cert,
                Optional.empty(), Optional.empty(), List.of(), Optional.empty(), false,
                List.of("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"))), List.of(hcm(routeAll("origin"), true, List.of())));
        var wideChain = new FilterChainConfig("wide", wide, new TransportSocketConfig.DownstreamTls(new TlsContextConfig(cert,
                Optional.empty(), Optional.empty(), List.of(), Optional.empty(), false)), List.of(hcm(routeAll("origin"), true, List.of())));
        var listener = listener("https", "127.0.0.1", List.of(new ListenerFilterConfig.TlsInspector("envoy.filters.listener.tls_inspector")),
                narrowChain, wideChain);
        proxy = Proxy.start(proxy(List.of(listener), List.of(staticCluster("origin", origin.address()))), 1);
        int port = proxy.listenerAddress("https").getPort();
        for (String host : List.of("narrow.example.com", "wide.example.com")) {
            String url = "https://" + host + ":" + port + "/";
            String resolve = host + ":" + port + ":127.0.0.1";
            Curl.Result listed = Curl.run("-k", "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384", "--resolve", resolve, url);
            assertEquals(200, listed.status(), host + ": the listed suite is offered: " + listed.err());
            Curl.Result other = Curl.run("-k", "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256", "--resolve", resolve, url);
            if (host.startsWith("narrow")) {
                assertNotEquals(0, other.exitCode(), "a suite outside cipher_suites is not offered: " + other.err());
            } else {
                assertEquals(200, other.status(), "without cipher_suites the JDK's defaults: " + other.err());
            }
            Curl.Result tls13 = Curl.run("-k", "--tlsv1.3", "--resolve", resolve, url);
            assertEquals(200, tls13.status(), host + ": TLS 1.3 keeps its suites: " + tls13.err());
        }
    }

    /** One chain with several certificates, as Envoy serves them: by SNI, then by the key type the client can verify. */
    @Test
    void oneChainServesEveryCertificateBySniAndKeyType(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        TestCertificates.Pem a = TestCertificates.selfSigned("EC", true, "a", "a.example.com");
        TestCertificates.Pem b = TestCertificates.selfSigned("EC", false, "b", "b.example.com", "*.b.example.com");
        TestCertificates.Pem rsa = TestCertificates.selfSigned("RSA", false, "both-rsa", "both.example.com");
        TestCertificates.Pem ec = TestCertificates.selfSigned("EC", true, "both-ec", "both.example.com");
        var tls = new TlsContextConfig(List.of(cert(a), cert(b), cert(rsa), cert(ec)), Optional.empty(), Optional.empty(),
                List.of(), Optional.empty(), false);
        FilterChainMatch any = new FilterChainMatch(OptionalInt.empty(), List.of(), List.of(), "", List.of(), List.of(),
                FilterChainMatch.SourceType.ANY, List.of(), List.of());
        var chain = new FilterChainConfig("multi", any, new TransportSocketConfig.DownstreamTls(tls),
                List.of(hcm(routeAll("origin"), true, List.of())));
        proxy = Proxy.start(proxy(List.of(listener("https", "127.0.0.1", List.of(), chain)),
                List.of(staticCluster("origin", origin.address()))), 1);
        int port = proxy.listenerAddress("https").getPort();
        java.nio.file.Path cas = dir.resolve("cas.pem");
        java.nio.file.Files.writeString(cas, a.certificate() + b.certificate() + rsa.certificate() + ec.certificate());
        // Verified against the names (no -k): each name is served its own certificate.
        for (String host : List.of("a.example.com", "b.example.com", "x.b.example.com", "both.example.com")) {
            Curl.Result r = Curl.run("--cacert", cas.toString(), "--resolve", host + ":" + port + ":127.0.0.1",
                    "https://" + host + ":" + port + "/");
            assertEquals(200, r.status(), host + ": " + r.err());
        }
        // The same name, an RSA and an ECDSA certificate: the one whose signature the client accepts.
        assertEquals("CN=both-rsa", servedSubject(port, "both.example.com", "rsa_pss_rsae_sha256", "rsa_pkcs1_sha256"));
        assertEquals("CN=both-ec", servedSubject(port, "both.example.com", "ecdsa_secp256r1_sha256"));
        // No name matches: the first certificate of a type the client accepts.
        assertEquals("CN=a", servedSubject(port, "other.example.net", "ecdsa_secp256r1_sha256"));
        assertEquals("CN=both-rsa", servedSubject(port, "other.example.net", "rsa_pss_rsae_sha256", "rsa_pkcs1_sha256"));
    }

    @Test
    void aKeyThatIsNotTheCertificatesIsRefusedNamingIt() {
        TestCertificates.Pem a = TestCertificates.selfSigned("a", "a.example.com");
        TestCertificates.Pem b = TestCertificates.selfSigned("b", "b.example.com");
        var tls = new TlsContextConfig(List.of(cert(a), new TlsContextConfig.CertificateConfig(b.certificate(), a.privateKey())),
                Optional.empty(), Optional.empty(), List.of(), Optional.empty(), false);
        var e = assertThrows(io.sourcemesh.proxy.config.ConfigException.class,
                () -> io.sourcemesh.proxy.tls.DownstreamTlsSocket.of(tls, java.util.List.of("http/1.1"), "listeners[0].filter_chains[0].transport_socket"));
        assertEquals("listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificates[1]"
                + ".private_key", e.fieldPath(), e.getMessage());
        assertTrue(e.getMessage().contains("does not belong to the certificate"), e.getMessage());
    }

    private static TlsContextConfig.CertificateConfig cert(TestCertificates.Pem pem) {
        return new TlsContextConfig.CertificateConfig(pem.certificate(), pem.privateKey());
    }

    /** The subject of the certificate served to a client that sends {@code sni} and accepts only {@code schemes}. */
    private static String servedSubject(int port, String sni, String... schemes) throws Exception {
        javax.net.ssl.SSLContext client = javax.net.ssl.SSLContext.getInstance("TLS");
        client.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

            @Override
            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        }}, null);
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            javax.net.ssl.SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new javax.net.ssl.SNIHostName(sni)));
            p.setSignatureSchemes(schemes); // for the handshake and for the certificate's own signature
            s.setSSLParameters(p);
            s.startHandshake();
            return ((java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
        }
    }

    @Test
    void tcpProxyRelaysBytesBothWays() {
        proxy = Proxy.start(proxy(List.of(listener("tcp", "127.0.0.1", List.of(), chain(tcp("origin", List.of())))),
                List.of(staticCluster("origin", origin.address()))), 1);
        int port = proxy.listenerAddress("tcp").getPort();
        Curl.Result r = Curl.run("--interface", "127.0.0.33", "http://127.0.0.1:" + port + "/echo");
        assertEquals(200, r.status(), r.err());
        assertNull(origin.last().header("x-forwarded-for"), "tcp_proxy does not touch HTTP");
        Curl.Result big = Curl.exec(List.of("curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}",
                "http://127.0.0.1:" + port + "/bytes/20000000"));
        assertEquals("20000000", big.out());
        assertEquals(2, proxy.stats().counters().get("tcp.tcp.downstream_cx_total"));
    }

    @Test
    void proxyProtocolHeaderGivesTheClientAddress() throws Exception {
        var pp = new ListenerFilterConfig.ProxyProtocol("envoy.filters.listener.proxy_protocol", false, List.of());
        var listener = listener("pp", "127.0.0.1", List.of(pp), chain(hcm(routeAll("origin"), true, List.of())));
        proxy = Proxy.start(proxy(List.of(listener), List.of(staticCluster("origin", origin.address()))), 1);
        int port = proxy.listenerAddress("pp").getPort();
        Curl.Result r = Curl.run("--interface", "127.0.0.21", "--haproxy-protocol", "http://127.0.0.1:" + port + "/");
        assertEquals(200, r.status(), r.err());
        assertEquals("127.0.0.21", origin.last().header("x-forwarded-for"), "the PROXY header's source is the client");
        // Without the header the connection is refused; other connections are unaffected.
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            assertEquals(-1, in.read());
        }
        assertEquals(200, Curl.run("--haproxy-protocol", "http://127.0.0.1:" + port + "/").status());
    }

    @Test
    void directConnectionToAnOriginalDstListenerIsClosedNotLooped() throws Exception {
        var listener = new ListenerConfig("virtualInbound", new InetSocketAddress("127.0.0.1", 0), false, false,
                List.of(new ListenerFilterConfig.OriginalDst("envoy.filters.listener.original_dst")),
                List.of(chain(tcp("passthrough", List.of()))), Optional.empty(), true);
        var passthrough = new ClusterConfig("passthrough", ClusterConfig.DiscoveryType.ORIGINAL_DST,
                ClusterConfig.LbPolicy.CLUSTER_PROVIDED, List.of(), Duration.ofSeconds(1),
                Optional.empty(), ClusterConfig.RingHash.defaults(), Optional.empty(), 0);
        proxy = Proxy.start(proxy(List.of(listener), List.of(passthrough)), 1);
        int port = proxy.listenerAddress("virtualInbound").getPort();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            assertEquals(-1, s.getInputStream().read(), "closed at once");
        }
        Thread.sleep(200);
        assertEquals(0L, proxy.stats().counters().getOrDefault("cluster.passthrough.upstream_cx_total", 0L),
                "the proxy never connected to itself");
    }

    @Test
    void tcpProxyClosesAnIdleConnectionAndLogsWhy(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path log = dir.resolve("tcp.log");
        var idle = new io.sourcemesh.proxy.config.TcpProxyConfig("envoy.filters.network.tcp_proxy", "tcp", Optional.of("origin"),
                List.of(), Optional.of(Duration.ofMillis(300)),
                List.of(fileLog(log, java.util.Map.of("details", "%CONNECTION_TERMINATION_DETAILS%", "host", "%UPSTREAM_HOST%",
                        "attempts", "%UPSTREAM_REQUEST_ATTEMPT_COUNT%", "flags", "%RESPONSE_FLAGS%",
                        "reason", "%DOWNSTREAM_LOCAL_CLOSE_REASON%"))));
        proxy = Proxy.start(proxy(List.of(listener("tcp", "127.0.0.1", List.of(), chain(idle))),
                List.of(staticCluster("origin", origin.address()))), 1);
        try (Socket s = new Socket("127.0.0.1", proxy.listenerAddress("tcp").getPort())) {
            s.setSoTimeout(5000);
            long start = System.nanoTime();
            assertEquals(-1, s.getInputStream().read(), "closed by the proxy");
            assertTrue(System.nanoTime() - start < 4_000_000_000L);
        }
        String line = io.sourcemesh.proxy.testing.LogFiles.awaitLine(log);
        // Envoy's onIdleTimeout (source/common/tcp_proxy/tcp_proxy.cc): the counter, no response flag, no termination
        // details: the reason is the connection's local close reason, LocalCloseReasons' TcpSessionIdleTimeout
        // (envoy/stream_info/stream_info.h).
        assertEquals(1L, proxy.stats().counters().get("tcp.tcp.idle_timeout"), "closed by the idle timer");
        assertTrue(line.contains("\"details\":null"), line);
        assertTrue(line.contains("\"reason\":\"tcp_session_idle_timeout\""), line);
        assertTrue(line.contains("\"flags\":\"-\""), line);
        assertTrue(line.contains("127.0.0.1:" + origin.port()), line);
        assertTrue(line.contains("\"attempts\":1"), "one connect attempt: " + line);
    }

    /**
     * tcp_proxy's upstream that never starts (source/common/tcp_proxy/tcp_proxy.cc onInitFailure): the downstream is
     * closed with Envoy's "tcp_initializion_failure:" and the UpstreamFailureReason's number as its local close reason
     * — 3 for a cluster that does not exist (NR), 1 for one without hosts (UH), 0 for a refused connect, which Envoy
     * tries again, finds its one attempt spent (onConnectMaxAttempts) and logs as UF,URX.
     */
    @Test
    void tcpProxyInitializationFailuresAreTheLocalCloseReason(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        List<ListenerConfig> listeners = new java.util.ArrayList<>();
        for (String target : List.of("missing", "empty", "refused")) {
            java.nio.file.Path log = dir.resolve(target + ".log");
            var tcp = new io.sourcemesh.proxy.config.TcpProxyConfig("envoy.filters.network.tcp_proxy", target, Optional.of(target),
                    List.of(), Optional.empty(), List.of(fileLog(log, java.util.Map.of("flags", "%RESPONSE_FLAGS%",
                            "reason", "%DOWNSTREAM_LOCAL_CLOSE_REASON%"))));
            listeners.add(listener(target, "127.0.0.1", List.of(), chain(tcp)));
        }
        proxy = Proxy.start(proxy(listeners, List.of(staticCluster("empty"),
                staticCluster("refused", new InetSocketAddress("127.0.0.1", closedPort)))), 1);
        java.util.Map<String, String> lines = new java.util.LinkedHashMap<>();
        for (String target : List.of("missing", "empty", "refused")) {
            try (Socket s = new Socket("127.0.0.1", proxy.listenerAddress(target).getPort())) {
                s.setSoTimeout(5000);
                assertEquals(-1, s.getInputStream().read(), "closed by the proxy");
            }
            lines.put(target, io.sourcemesh.proxy.testing.LogFiles.awaitLine(dir.resolve(target + ".log")));
        }
        assertTrue(lines.get("missing").contains("\"reason\":\"tcp_initializion_failure:3\""), lines.toString());
        assertTrue(lines.get("missing").contains("\"flags\":\"NC\""), lines.toString());
        assertTrue(lines.get("empty").contains("\"reason\":\"tcp_initializion_failure:1\""), lines.toString());
        assertTrue(lines.get("empty").contains("\"flags\":\"UH\""), lines.toString());
        assertTrue(lines.get("refused").contains("\"reason\":\"tcp_initializion_failure:0\""), lines.toString());
        assertTrue(lines.get("refused").contains("\"flags\":\"UF,URX\""), lines.toString());
        assertEquals(1L, proxy.stats().counters().get("cluster.refused.upstream_cx_connect_attempts_exceeded"));
    }
}
