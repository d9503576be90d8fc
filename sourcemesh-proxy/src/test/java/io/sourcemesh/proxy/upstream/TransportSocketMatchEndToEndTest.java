package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.TestCertificates;
import io.sourcemesh.proxy.testing.TlsOrigin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster's transport_socket_matches over real sockets (Envoy's TransportSocketMatcherImpl::resolve, in the shape
 * Istio's auto mTLS writes): one cluster, a TLS origin that requires the client's certificate behind the endpoint whose
 * {@code envoy.transport_socket_match} metadata is {@code tlsMode: istio}, and a plaintext origin behind one without;
 * each gets its own socket, and each keeps its own pooled connection.
 */
class TransportSocketMatchEndToEndTest {
    private static final String HTTPBIN = "spiffe://cluster.local/ns/default/sa/httpbin";

    @TempDir
    Path dir;
    private TestCertificates.Authority ca;
    private TlsOrigin tls;
    private Origin plain;
    private Proxy proxy;
    private Path log;

    @BeforeEach
    void start() throws Exception {
        ca = TestCertificates.Authority.root("mesh-ca");
        tls = TlsOrigin.start(ca.issue("httpbin", "httpbin.default.svc", HTTPBIN), ca.certificate(), false);
        plain = Origin.start();
        log = dir.resolve("access.log");
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        tls.close();
        plain.close();
    }

    /** The mesh's mTLS socket: a client certificate of the CA, the server verified against it and its SAN. */
    private String meshSocket() throws Exception {
        TestCertificates.Pem client = ca.issue("sleep", "spiffe://cluster.local/ns/default/sa/sleep");
        return """
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                  common_tls_context:
                    tls_certificates: [{certificate_chain: {filename: "%s"}, private_key: {filename: "%s"}}]
                    validation_context:
                      trusted_ca: {filename: "%s"}
                      match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: "%s"}}]
                """.formatted(write("client.crt", client.certificate()), write("client.key", client.privateKey()),
                write("ca.crt", ca.certificate()), HTTPBIN);
    }

    private String write(String name, String pem) throws Exception {
        return Files.writeString(dir.resolve(name), pem).toString();
    }

    /** Istio's auto mTLS cluster: tlsMode-istio with {@code istioSocket}, then tlsMode-disabled's raw_buffer for the rest. */
    private String bootstrap(String istioSocket) {
        String matches = """
                lb_policy: ROUND_ROBIN
                transport_socket_matches:
                - name: tlsMode-istio
                  match: {tlsMode: istio}
                  transport_socket:
                """ + istioSocket.indent(4) + """
                - name: tlsMode-disabled
                  match: {}
                  transport_socket: {name: envoy.transport_sockets.raw_buffer}
                """;
        return HttpBootstrap.toOrigins(tls.port(), plain.port())
                .endpointFields(0, "metadata: {filter_metadata: {envoy.transport_socket_match: {tlsMode: istio}, "
                        + "istio: {workload: \"httpbin;default;httpbin;v1;Kubernetes\"}}}")
                .accessLog(log, "%UPSTREAM_HOST% %UPSTREAM_TLS_VERSION% %UPSTREAM_PEER_URI_SAN%")
                .clusterFields(matches).yaml();
    }

    private Curl.Result get() {
        return Curl.run("http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/get");
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault("cluster.origin." + name, 0L);
    }

    @Test
    void eachEndpointIsReachedThroughItsOwnSocket() throws Exception {
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(meshSocket())), 1);
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Curl.Result r = get();
            assertEquals(200, r.status(), r.toString());
            bodies.add(r.body().startsWith("tls-origin") ? "tls" : "plain");
        }
        assertEquals(List.of("tls", "plain", "tls", "plain"), bodies, "round robin over both, each answering");
        assertEquals(List.of("CN=sleep"), tls.clientSubjects, "one TLS connection, pooled and reused, with the client certificate");
        assertEquals(1, tls.accepted.get());
        assertEquals(2, plain.seen().size());
        assertEquals(plain.seen().get(0).peer(), plain.seen().get(1).peer(), "one plaintext connection, pooled and reused");
        assertEquals(1, counter("ssl.handshake"), "the plaintext endpoint never handshakes");
        assertEquals(1, counter("tlsMode-istio.total_match_count"));
        assertEquals(1, counter("tlsMode-disabled.total_match_count"));
        List<String> lines = LogFiles.awaitLines(log, 4);
        assertEquals("127.0.0.1:" + tls.port() + " TLSv1.3 " + HTTPBIN, lines.get(0));
        assertEquals("127.0.0.1:" + plain.port() + " - -", lines.get(1));
    }

    @Test
    void withoutAMatchForTheEndpointItGetsTheClustersOwnSocket() throws Exception {
        // No empty match: the plaintext endpoint falls to the cluster's transport_socket (none: raw_buffer), the TLS
        // one still matches by its metadata.
        String yaml = bootstrap(meshSocket()).replace("""
                    - name: tlsMode-disabled
                      match: {}
                      transport_socket: {name: envoy.transport_sockets.raw_buffer}
                """, "");
        assertTrue(!yaml.contains("tlsMode-disabled"), yaml);
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
        assertEquals("tls-origin", get().body());
        assertEquals(200, get().status());
        assertEquals(1, plain.seen().size());
    }

    @Test
    void aMatchWhoseSocketCannotBeBuiltRejectsTheWholeConfigAndTheLastOneServes() throws Exception {
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(meshSocket())), 1);
        assertEquals(200, get().status());
        TestCertificates.Pem other = ca.issue("other", "spiffe://cluster.local/ns/default/sa/other");
        // A client key that is not its certificate's: the translation takes it, the socket cannot be built.
        String broken = meshSocket().replace(dir.resolve("client.key").toString(), write("other.key", other.privateKey()));
        ConfigException e = assertThrows(ConfigException.class, () -> proxy.apply(BootstrapLoader.loadText(
                bootstrap(broken).replace("tlsMode-istio", "renamed"))));
        assertTrue(e.getMessage().startsWith("clusters.origin.transport_socket_matches[0].transport_socket.typed_config"),
                e.getMessage());
        assertEquals(200, get().status());
        assertEquals(200, get().status());
        assertEquals(0, counter("renamed.total_match_count"), "the rejected version built no cluster");
    }

    /** tcp_proxy takes the host's socket too: the matched endpoint's bytes go over mTLS, the other's in plaintext. */
    @Test
    void tcpProxyConnectsThroughEachHostsSocket() throws Exception {
        try (TlsOrigin echo = TlsOrigin.start(ca.issue("httpbin", "httpbin.default.svc", HTTPBIN), ca.certificate(), true);
                java.net.ServerSocket raw = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            Thread.ofVirtual().start(() -> {
                while (!raw.isClosed()) {
                    try (java.net.Socket s = raw.accept()) {
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (java.io.IOException closed) {
                        return;
                    }
                }
            });
            String yaml = """
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
                              cluster: origin
                      clusters:
                      - name: origin
                        connect_timeout: 1s
                        lb_policy: ROUND_ROBIN
                        transport_socket_matches:
                        - name: tlsMode-istio
                          match: {tlsMode: istio}
                          transport_socket:
                    %s
                        load_assignment:
                          cluster_name: origin
                          endpoints:
                          - lb_endpoints:
                            - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                              metadata: {filter_metadata: {envoy.transport_socket_match: {tlsMode: istio}}}
                            - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                    """.formatted(meshSocket().indent(8).stripTrailing(), echo.port(), raw.getLocalPort());
            proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
            for (int i = 0; i < 2; i++) {
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("tcp").getPort())) {
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write("ping\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    assertEquals("ping\n", new String(s.getInputStream().readNBytes(5), java.nio.charset.StandardCharsets.US_ASCII));
                }
            }
            assertEquals(List.of("CN=sleep"), echo.clientSubjects, "one connection over mTLS");
            assertEquals(1, counter("ssl.handshake"));
        }
    }
}
