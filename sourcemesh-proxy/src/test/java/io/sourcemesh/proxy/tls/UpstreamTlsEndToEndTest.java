package io.sourcemesh.proxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.TestCertificates;
import io.sourcemesh.proxy.testing.TlsOrigin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster's UpstreamTlsContext over real TLS to a JDK TLS origin on loopback, requests by curl: the handshake before
 * the request, SNI as configured, the server verified by the validation context (Envoy's DefaultCertValidator:
 * source/common/tls/cert_validator/default_validator.cc), a client certificate for an origin that requires one,
 * protocol bounds; a failed handshake is a connect failure as Envoy reports it — 503 UF, the details
 * {@code upstream_reset_before_response_started{connection_failure,TLS_error:...}} and the transport failure reason
 * of source/common/tls/ssl_socket.cc (drainErrorQueue), the cluster's {@code upstream_cx_connect_fail} and
 * {@code ssl.*} counters.
 */
class UpstreamTlsEndToEndTest {
    private static final String HTTPBIN = "spiffe://cluster.local/ns/default/sa/httpbin";

    @TempDir
    Path dir;
    private TestCertificates.Authority serverCa;
    private TlsOrigin origin;
    private Proxy proxy;
    private Path log;

    @BeforeEach
    void certificates() {
        serverCa = TestCertificates.Authority.root("mesh-ca");
        log = dir.resolve("access.log");
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private TlsOrigin origin(String clientCa, String... protocols) {
        origin = TlsOrigin.start(serverCa.issue("httpbin", "httpbin.default.svc", HTTPBIN), clientCa, false, protocols);
        return origin;
    }

    private Path write(String name, String pem) throws Exception {
        return Files.writeString(dir.resolve(name), pem);
    }

    /** The proxy routing to the origin through a cluster with this UpstreamTlsContext (its fields, unindented). */
    private void proxy(String context) {
        String socket = """
                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                """ + context.indent(4);
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.port())
                .accessLog(log, "%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_TLS_VERSION% %UPSTREAM_PEER_URI_SAN% %UPSTREAM_LOCAL_URI_SAN% "
                        + "%RESPONSE_CODE_DETAILS% %UPSTREAM_TRANSPORT_FAILURE_REASON%")
                .clusterFields(socket).yaml()), 1);
    }

    private String trustedCa() throws Exception {
        return "trusted_ca: {filename: \"" + write("ca.crt", serverCa.certificate()) + "\"}";
    }

    private Curl.Result get() {
        return Curl.run("http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/get");
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault("cluster.origin." + name, 0L);
    }

    @Test
    void aVerifiedOriginAnswersThroughTlsWithTheConfiguredSni() throws Exception {
        origin(null);
        proxy("sni: httpbin.default.svc\ncommon_tls_context:\n  validation_context: {" + trustedCa()
                + ", match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: \"" + HTTPBIN + "\"}}]}");
        Curl.Result r = get();
        assertEquals(200, r.status(), r.toString());
        assertEquals("tls-origin", r.body());
        Curl.Result again = get();
        assertEquals(200, again.status(), again.toString());
        assertEquals(List.of("httpbin.default.svc"), origin.serverNames, "one handshake, the pooled connection reused, SNI as configured");
        assertEquals(1, counter("ssl.handshake"));
        assertEquals(0, counter("upstream_cx_connect_fail"));
    }

    @Test
    void aSingleLabelSniIsSentToo() throws Exception {
        // The JDK's TLS would leave out a name without a dot; Envoy sends whatever sni says.
        origin(null);
        proxy("sni: httpbin");
        assertEquals(200, get().status());
        assertEquals(List.of("httpbin"), origin.serverNames);
    }

    @Test
    void withoutSniNoneIsSentAndWithoutValidationContextNothingIsVerified() throws Exception {
        origin = TlsOrigin.start(TestCertificates.selfSigned("anyone", "elsewhere.example"), null, false);
        proxy("");
        Curl.Result r = get();
        assertEquals(200, r.status(), r.toString());
        assertEquals(List.of(""), origin.serverNames);
    }

    @Test
    void aServerOfAnotherCaIsAConnectFailure() throws Exception {
        origin(null);
        String otherCa = TestCertificates.Authority.root("other-ca").certificate();
        proxy("common_tls_context:\n  validation_context: {trusted_ca: {filename: \"" + write("other.crt", otherCa) + "\"}}");
        Curl.Result r = get();
        assertEquals(503, r.status(), r.toString());
        String reason = "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify cert failed: "
                + "X509_verify_cert: certificate verification error at depth 0: unable to get local issuer certificate:TLS_error_end";
        assertEquals("upstream connect error or disconnect/reset before headers. reset reason: connection failure, "
                + "transport failure reason: " + reason, r.body());
        assertEquals("503 UF - - - upstream_reset_before_response_started{connection_failure," + reason.replace(' ', '_') + "} " + reason,
                LogFiles.awaitLine(log));
        assertEquals(1, counter("upstream_cx_connect_fail"));
        assertEquals(1, counter("ssl.fail_verify_error"));
        assertEquals(0, counter("ssl.connection_error"), "a verification failure is counted as that only, as Envoy's drainErrorQueue");
        assertEquals(0, counter("ssl.handshake"));
    }

    @Test
    void aServerWithoutTheExpectedSanIsRefused() throws Exception {
        origin(null);
        proxy("common_tls_context:\n  validation_context: {" + trustedCa()
                + ", match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: \"spiffe://cluster.local/ns/default/sa/reviews\"}}]}");
        Curl.Result r = get();
        assertEquals(503, r.status(), r.toString());
        assertTrue(r.body().contains("CERTIFICATE_VERIFY_FAILED:verify cert failed: SAN matcher"), r.body());
        assertEquals(1, counter("ssl.fail_verify_san"));
        assertEquals(1, counter("upstream_cx_connect_fail"));
        assertTrue(LogFiles.awaitLine(log).startsWith("503 UF - - - "), "UF, no upstream TLS to log");
    }

    @Test
    void aRevokedServerCertificateIsRefusedAndTheDeprecatedMatcherTriesEverySanType() throws Exception {
        TestCertificates.Pem revoked = serverCa.issue("httpbin", "httpbin.default.svc");
        origin = TlsOrigin.start(revoked, null, false);
        String validation = "common_tls_context:\n  validation_context: {" + trustedCa() + ", match_subject_alt_names: [{suffix: .default.svc}]";
        proxy(validation + "}");
        assertEquals(200, get().status(), "the DNS SAN matches the deprecated matcher");
        proxy.close();
        proxy(validation + ", crl: {filename: \"" + write("revoked.crl", serverCa.crl(revoked.certificate())) + "\"}}");
        Curl.Result r = get();
        assertEquals(503, r.status(), r.toString());
        assertTrue(r.body().endsWith("CERTIFICATE_VERIFY_FAILED:verify cert failed: X509_verify_cert: certificate verification error "
                + "at depth 0: certificate revoked:TLS_error_end"), r.body());
        assertEquals(1, counter("ssl.fail_verify_error"));
    }

    @Test
    void mutualTlsPresentsTheClientCertificate() throws Exception {
        TestCertificates.Authority clientCa = TestCertificates.Authority.root("client-ca");
        origin(clientCa.certificate());
        TestCertificates.Pem client = clientCa.issue("sleep", "spiffe://cluster.local/ns/default/sa/sleep");
        proxy("common_tls_context:\n  tls_certificates: [{certificate_chain: {filename: \"" + write("client.crt", client.certificate())
                + "\"}, private_key: {filename: \"" + write("client.key", client.privateKey()) + "\"}}]\n  validation_context: {"
                + trustedCa() + "}");
        Curl.Result r = get();
        assertEquals(200, r.status(), r.toString());
        assertEquals(List.of("CN=sleep"), origin.clientSubjects);
        assertEquals("200 - TLSv1.3 " + HTTPBIN + " spiffe://cluster.local/ns/default/sa/sleep via_upstream -", LogFiles.awaitLine(log));
    }

    @Test
    void withoutAClientCertificateATls12OriginRequiringOneRefusesTheHandshake() throws Exception {
        // Under TLS 1.2 the server refuses within the handshake (under TLS 1.3 only after it, on the first read: a
        // connection termination, for Envoy too).
        origin(TestCertificates.Authority.root("client-ca").certificate(), "TLSv1.2");
        proxy("common_tls_context:\n  validation_context: {" + trustedCa() + "}");
        Curl.Result r = get();
        assertEquals(503, r.status(), r.toString());
        assertTrue(r.body().endsWith("transport failure reason: TLS_error:|268436496:SSL routines:OPENSSL_internal:"
                + "SSLV3_ALERT_HANDSHAKE_FAILURE:TLS_error_end"), r.body());
        assertEquals(1, counter("ssl.connection_error"));
        assertEquals(1, counter("upstream_cx_connect_fail"));
    }

    @Test
    void aMinimumOfTls13FailsAgainstATls12OnlyOrigin() throws Exception {
        origin(null, "TLSv1.2");
        proxy("common_tls_context:\n  tls_params: {tls_minimum_protocol_version: TLSv1_3}");
        Curl.Result r = get();
        assertEquals(503, r.status(), r.toString());
        assertTrue(r.body().endsWith("transport failure reason: TLS_error:|268436526:SSL routines:OPENSSL_internal:"
                + "TLSV1_ALERT_PROTOCOL_VERSION:TLS_error_end"), r.body());
        assertEquals(1, counter("ssl.connection_error"));
        origin.close();
        proxy.close();
        origin(null, "TLSv1.2");
        proxy("common_tls_context:\n  tls_params: {tls_maximum_protocol_version: TLSv1_2}");
        assertEquals(200, get().status(), "a maximum of TLS 1.2 speaks to it");
    }

    @Test
    void aClientKeyThatIsNotTheCertificatesFailsTheConfigNamingTheCluster() throws Exception {
        origin(null);
        TestCertificates.Pem a = serverCa.issue("a");
        TestCertificates.Pem b = serverCa.issue("b");
        var e = org.junit.jupiter.api.Assertions.assertThrows(io.sourcemesh.proxy.config.ConfigException.class, () -> proxy(
                "common_tls_context:\n  tls_certificates: [{certificate_chain: {filename: \"" + write("a.crt", a.certificate())
                        + "\"}, private_key: {filename: \"" + write("b.key", b.privateKey()) + "\"}}]"));
        assertTrue(e.getMessage().startsWith("clusters.origin.transport_socket.typed_config.common_tls_context.tls_certificates[0]"),
                e.getMessage());
    }

    /** connect_timeout covers the handshake, as Envoy's (Connected only after it): a server that never answers times out. */
    @Test
    void aHandshakeThatNeverEndsIsAConnectTimeout() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            Thread.ofVirtual().start(() -> {
                try (java.net.Socket held = silent.accept()) {
                    held.getInputStream().readAllBytes(); // reads the ClientHello, answers nothing
                } catch (java.io.IOException closed) {
                    // the proxy gave up
                }
            });
            proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(silent.getLocalPort())
                    .accessLog(log, "%RESPONSE_CODE% %RESPONSE_FLAGS% %DURATION%")
                    .clusterFields("transport_socket: {name: envoy.transport_sockets.tls}").yaml()), 1);
            Curl.Result r = get();
            assertEquals(503, r.status(), r.toString());
            String[] line = LogFiles.awaitLine(log).split(" ");
            assertEquals("UF", line[1]);
            long millis = Long.parseLong(line[2]);
            assertTrue(millis >= 900 && millis < 5000, "the cluster's connect_timeout of 1s: " + millis);
            assertEquals(1, counter("upstream_cx_connect_timeout"));
            assertEquals(1, counter("upstream_cx_connect_fail"));
            assertEquals(0, counter("ssl.connection_error"));
        }
    }

    /** A server that closes mid-handshake: a connect failure with no TLS error to report, as Envoy's empty error queue. */
    @Test
    void aServerClosingDuringTheHandshakeIsAConnectFailureWithoutReason() throws Exception {
        try (java.net.ServerSocket closing = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            Thread.ofVirtual().start(() -> {
                try (java.net.Socket s = closing.accept()) {
                    s.getInputStream().read(); // the ClientHello's first byte, then close
                } catch (java.io.IOException ignored) {
                    // closing anyway
                }
            });
            proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(closing.getLocalPort())
                    .accessLog(log, "%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %UPSTREAM_TRANSPORT_FAILURE_REASON%")
                    .clusterFields("transport_socket: {name: envoy.transport_sockets.tls}").yaml()), 1);
            assertEquals(503, get().status());
            assertEquals("503 UF upstream_reset_before_response_started{connection_failure} -", LogFiles.awaitLine(log));
            assertEquals(1, counter("upstream_cx_connect_fail"));
            assertEquals(0, counter("ssl.connection_error"));
        }
    }

    /** Outlier detection sees a failed handshake as the local connect failure it is (a 5xx of its consecutive_5xx). */
    @Test
    void aHostFailingVerificationIsEjected() throws Exception {
        origin(null);
        try (TlsOrigin impostor = TlsOrigin.start(TestCertificates.Authority.root("other-ca").issue("httpbin", HTTPBIN), null, false)) {
            String socket = """
                    common_lb_config: {healthy_panic_threshold: {value: 0}}
                    outlier_detection: {consecutive_5xx: 1, enforcing_consecutive_5xx: 100, base_ejection_time: 60s, max_ejection_percent: 100}
                    transport_socket:
                      name: envoy.transport_sockets.tls
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                        common_tls_context: {validation_context: {@CA@}}
                    """.replace("@CA@", trustedCa());
            proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigins(impostor.port(), origin.port()).clusterFields(socket)
                    .yaml()), 1);
            List<Integer> codes = new java.util.ArrayList<>();
            for (int i = 0; i < 6; i++) {
                codes.add(get().status());
            }
            assertEquals(1, codes.stream().filter(c -> c == 503).count(), "one failed handshake, then ejected: " + codes);
            assertEquals(1, proxy.stats().counters().get("cluster.origin.outlier_detection.ejections_enforced_consecutive_5xx"));
            assertEquals(1, counter("ssl.fail_verify_error"));
        }
    }

    /** Request mirroring to a TLS cluster handshakes too (the shadow's connection is the cluster's). */
    @Test
    void aMirrorClusterOriginatesTls() throws Exception {
        origin(null);
        try (io.sourcemesh.proxy.testing.Origin primary = io.sourcemesh.proxy.testing.Origin.start()) {
            String yaml = HttpBootstrap.toOrigin(primary.port()).routes("""
                    - match: {prefix: /}
                      route:
                        cluster: origin
                        request_mirror_policies: [{cluster: mirror}]
                    """).yaml() + """
                      - name: mirror
                        connect_timeout: 1s
                        load_assignment:
                          cluster_name: mirror
                          endpoints:
                          - lb_endpoints:
                            - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                        transport_socket:
                          name: envoy.transport_sockets.tls
                          typed_config:
                            "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                            sni: mirror.example
                            common_tls_context: {validation_context: {%s}}
                    """.formatted(origin.port(), trustedCa());
            proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
            assertEquals(200, get().status());
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (proxy.stats().counters().getOrDefault("cluster.mirror.ssl.handshake", 0L) < 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1L, proxy.stats().counters().get("cluster.mirror.ssl.handshake"), () -> "mirror cluster stats "
                    + proxy.stats().counters().entrySet().stream().filter(e -> e.getKey().startsWith("cluster.mirror.") && e.getValue() > 0)
                    .toList() + ", connections the origin accepted: " + origin.accepted);
            while (origin.serverNames.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(List.of("mirror.example"), origin.serverNames);
        }
    }

    /** tcp_proxy to a TLS echo origin: the handshake before the first byte is relayed, then the bytes both ways. */
    @Test
    void tcpProxyOriginatesTlsToo() throws Exception {
        origin = TlsOrigin.start(serverCa.issue("echo", "echo.default.svc"), null, true);
        proxy = Proxy.start(BootstrapLoader.loadText(tcpBootstrap(origin.port(), "sni: echo.default.svc\ncommon_tls_context:\n"
                + "  validation_context: {" + trustedCa() + ", match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: echo.default.svc}}]}")), 1);
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("tcp").getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("ping over tls\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            byte[] back = s.getInputStream().readNBytes(14);
            assertEquals("ping over tls\n", new String(back, java.nio.charset.StandardCharsets.US_ASCII));
        }
        assertEquals(List.of("echo.default.svc"), origin.serverNames);
        assertEquals(1, counter("ssl.handshake"));
        assertEquals("- echo.default.svc -", LogFiles.awaitLine(log));
    }

    /** tcp_proxy's connect failure: the client's connection is closed, UF and the transport failure reason logged. */
    @Test
    void tcpProxyCountsAFailedHandshakeAsAConnectFailure() throws Exception {
        origin = TlsOrigin.start(serverCa.issue("echo", "echo.default.svc"), null, true);
        String otherCa = TestCertificates.Authority.root("other-ca").certificate();
        proxy = Proxy.start(BootstrapLoader.loadText(tcpBootstrap(origin.port(), "common_tls_context:\n"
                + "  validation_context: {trusted_ca: {filename: \"" + write("other.crt", otherCa) + "\"}}")), 1);
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddress("tcp").getPort())) {
            s.setSoTimeout(10_000);
            assertEquals(-1, s.getInputStream().read(), "closed, nothing relayed");
        }
        String line = LogFiles.awaitLine(log);
        assertTrue(line.startsWith("UF,URX - TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:"), line);
        assertEquals(1, counter("upstream_cx_connect_fail"));
        assertEquals(1, counter("ssl.fail_verify_error"));
    }

    private String tcpBootstrap(int port, String context) {
        return """
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
                          access_log:
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: @LOG@
                              log_format: {text_format_source: {inline_string: "%RESPONSE_FLAGS% %UPSTREAM_PEER_DNS_SAN% %UPSTREAM_TRANSPORT_FAILURE_REASON%\\n"}}
                  clusters:
                  - name: origin
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: origin
                      endpoints:
                      - lb_endpoints:
                        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: @PORT@}}}
                    transport_socket:
                      name: envoy.transport_sockets.tls
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                """.replace("@LOG@", log.toString()).replace("@PORT@", Integer.toString(port)) + context.indent(8);
    }
}
