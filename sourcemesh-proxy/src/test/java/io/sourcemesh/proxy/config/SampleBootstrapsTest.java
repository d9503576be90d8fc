package io.sourcemesh.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every bootstrap under samples/proxy loads through the loader, and says what its comments say. */
class SampleBootstrapsTest {

    static Path samples() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("samples/proxy"))) {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "samples/proxy not found above the working directory");
        return dir.resolve("samples/proxy");
    }

    /** Loads a sample as if run from the repository root, where its relative paths point. */
    static ProxyConfig load(String name) throws IOException {
        Path samples = samples();
        String text = Files.readString(samples.resolve(name))
                .replace("samples/proxy/", samples.toString() + "/");
        return BootstrapLoader.loadText(text);
    }

    @Test
    void everySampleLoads() throws IOException {
        try (Stream<Path> files = Files.list(samples())) {
            List<Path> yamls = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
            assertEquals(8, yamls.size(), yamls.toString());
            for (Path yaml : yamls) {
                ProxyConfig config = load(yaml.getFileName().toString());
                assertTrue(!config.listeners().isEmpty() || config.ads().isPresent(), yaml + ": listeners, or ADS to get them");
            }
        }
    }

    @Test
    void adsPipeIsIstiosShape() throws IOException {
        ProxyConfig config = load("ads-pipe.yaml");
        AdsConfig ads = config.ads().orElseThrow();
        assertEquals("xds-grpc", ads.clusterName());
        assertEquals(java.net.UnixDomainSocketAddress.of("./etc/istio/proxy/XDS"), ads.server());
        assertEquals(Optional.empty(), ads.initialFetchTimeout());
        assertEquals(List.of(), config.listeners());
        assertEquals(List.of(), config.clusters(), "xds-grpc carries the xDS stream only");
        assertEquals("REDIRECT", config.node().metadata().get("INTERCEPTION_MODE"));
    }

    @Test
    void upstreamTlsOriginatesTlsToTheSniSample() throws IOException {
        ClusterConfig cluster = load("upstream-tls.yaml").cluster("app_tls").orElseThrow();
        UpstreamTlsConfig tls = assertInstanceOf(TransportSocketConfig.UpstreamTls.class, cluster.transportSocket()).tls();
        assertEquals(Optional.of("app.example.com"), tls.sni());
        assertEquals(Files.readString(samples().resolve("certs/app.example.com.crt")),
                tls.context().validation().orElseThrow().trustedCaPem().orElseThrow());
        assertEquals(new InetSocketAddress("127.0.0.1", 10443), cluster.endpoints().get(0).address());
    }

    @Test
    void httpProxy() throws IOException {
        ProxyConfig config = load("http-proxy.yaml");
        ListenerConfig listener = config.listener("http").orElseThrow();
        assertEquals(new InetSocketAddress("127.0.0.1", 10000), listener.address());
        var hcm = assertInstanceOf(HttpConnectionManagerConfig.class, listener.filterChains().get(0).filters().get(0));
        assertTrue(hcm.useRemoteAddress());
        AccessLogConfig log = hcm.accessLogs().get(0);
        assertEquals(AccessLogConfig.Sink.Kind.STDOUT, log.sink().kind());
        List<String> keys = List.copyOf(log.jsonFormat().orElseThrow().keySet());
        assertEquals(List.of("start_time", "route_name", "method", "path", "protocol", "response_code", "response_flags",
                "response_code_details", "connection_termination_details", "upstream_transport_failure_reason",
                "bytes_received", "bytes_sent", "duration", "upstream_service_time", "x_forwarded_for", "user_agent",
                "request_id", "authority", "upstream_host", "upstream_cluster", "upstream_local_address",
                "downstream_local_address", "downstream_remote_address", "requested_server_name"), keys);
        ClusterConfig backend = config.cluster("backend").orElseThrow();
        assertEquals(ClusterConfig.DiscoveryType.STATIC, backend.type());
        assertEquals(List.of(new ClusterConfig.Endpoint(new InetSocketAddress("127.0.0.1", 8080), 1)), backend.endpoints());
    }

    @Test
    void sidecarInboundBindsUpstreamTo127006() throws IOException {
        ProxyConfig config = load("sidecar-inbound.yaml");
        ListenerConfig inbound = config.listener("virtualInbound").orElseThrow();
        assertTrue(inbound.useOriginalDst());
        assertTrue(inbound.listenerFilter(ListenerFilterConfig.OriginalDst.class).isPresent());
        ClusterConfig cluster = config.cluster("inbound|8000||").orElseThrow();
        assertEquals(ClusterConfig.DiscoveryType.ORIGINAL_DST, cluster.type());
        assertEquals(Optional.of(new InetSocketAddress("127.0.0.6", 0)), cluster.upstreamBindAddress());
        assertEquals("REDIRECT", config.node().metadata().get("INTERCEPTION_MODE"));
    }

    @Test
    void originalSrcIsTransparentWithMark() throws IOException {
        ListenerConfig inbound = load("original-src.yaml").listener("virtualInbound").orElseThrow();
        assertTrue(inbound.transparent());
        var src = inbound.listenerFilter(ListenerFilterConfig.OriginalSrc.class).orElseThrow();
        assertEquals(1337, src.mark());
        assertFalse(src.bindPort());
    }

    @Test
    void tlsSniHasTwoChainsWithCertificates() throws IOException {
        ListenerConfig https = load("tls-sni.yaml").listener("https").orElseThrow();
        assertEquals(2, https.filterChains().size());
        assertEquals(List.of("app.example.com"), https.filterChains().get(0).match().serverNames());
        TlsContextConfig tls = https.filterChains().get(0).tls().orElseThrow();
        assertTrue(tls.certificates().get(0).certificateChainPem().contains("BEGIN CERTIFICATE"));
        assertEquals(Optional.of("TLSv1.2"), tls.minVersion());
        assertEquals(List.of("http/1.1"), tls.alpnProtocols());
        assertTrue(https.listenerFilter(ListenerFilterConfig.TlsInspector.class).isPresent());
    }

    @Test
    void rbacGuardsBothListeners() throws IOException {
        ProxyConfig config = load("rbac.yaml");
        var hcm = assertInstanceOf(HttpConnectionManagerConfig.class,
                config.listener("http").orElseThrow().filterChains().get(0).filters().get(0));
        var rbac = assertInstanceOf(HttpFilterConfig.Rbac.class, hcm.httpFilters().get(0));
        assertEquals(List.of("ns[demo]-policy[public-read]-rule[0]", "ns[demo]-policy[trusted-host]-rule[0]"),
                List.copyOf(rbac.rbac().rules().orElseThrow().policies().keySet()));
        assertEquals("istio_dry_run_allow_", rbac.rbac().shadowRulesStatPrefix());
        var tcp = config.listener("tcp").orElseThrow().filterChains().get(0).filters();
        assertEquals(2, tcp.size());
        var network = assertInstanceOf(NetworkRbacConfig.class, tcp.get(0));
        assertEquals("tcp.", network.statPrefix());
        assertInstanceOf(TcpProxyConfig.class, tcp.get(1));
    }
}
