package io.sourcemesh.proxy.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * envoy.filters.network.rbac before tcp_proxy and before the HTTP connection manager: a denied
 * connection is closed with nothing forwarded, logged with its termination details, counted as
 * {@code <stat_prefix>rbac.*}.
 */
class NetworkRbacEndToEndTest {
    private Origin origin;
    private Proxy proxy;

    @TempDir
    Path dir;

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

    private static final String ALLOW_42 = """
            - name: envoy.filters.network.rbac
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                stat_prefix: tcp.
                ENFORCEMENT
                rules:
                  action: ALLOW
                  policies:
                    ns[demo]-policy[tcp-allow]-rule[0]:
                      permissions: [{destination_port_range: {start: 1, end: 65536}}]
                      principals: [{direct_remote_ip: {address_prefix: 127.0.0.42, prefix_len: 32}}]
                shadow_rules_stat_prefix: istio_dry_run_allow_
                shadow_rules:
                  action: DENY
                  policies: {}
            """;

    static String bootstrap(String listenerFilters, String filters, int originPort) {
        return """
                static_resources:
                  listeners:
                  - name: l
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    listener_filters: LISTENER_FILTERS
                    filter_chains:
                    - filters:
                FILTERS
                  clusters:
                  - name: backend
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: backend
                      endpoints:
                      - lb_endpoints:
                        - endpoint:
                            address: {socket_address: {address: 127.0.0.1, port_value: ORIGIN_PORT}}
                """.replace("LISTENER_FILTERS", listenerFilters).replace("FILTERS\n", filters.indent(6))
                .replace("ORIGIN_PORT", Integer.toString(originPort));
    }

    private String tcpProxy(Path log) {
        return """
                - name: envoy.filters.network.tcp_proxy
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                    stat_prefix: backend_tcp
                    cluster: backend
                    access_log:
                    - name: envoy.access_loggers.file
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                        path: LOG_PATH
                        log_format: {json_format: {details: "%CONNECTION_TERMINATION_DETAILS%", peer: "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%"}}
                """.replace("LOG_PATH", log.toString());
    }

    private String url() {
        return "http://127.0.0.1:" + proxy.listenerAddress("l").getPort() + "/get";
    }

    @Test
    void tcpProxyDeniedConnectionIsClosedAndLogged() throws Exception {
        Path log = dir.resolve("tcp.log");
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap("[]", ALLOW_42.replace("    ENFORCEMENT\n", "") + tcpProxy(log),
                origin.port())), 1);
        assertEquals(200, Curl.run("--interface", "127.0.0.42", url()).status());
        Curl.Result denied = Curl.run("--interface", "127.0.0.43", url());
        assertEquals(52, denied.exitCode(), "curl: empty reply from server: " + denied.err());
        assertEquals(1, origin.seen().size(), "the denied connection's request never reached the backend");
        var lines = LogFiles.awaitLines(log, 2);
        String deniedLine = lines.stream().filter(l -> l.contains("127.0.0.43")).findFirst().orElseThrow();
        assertTrue(deniedLine.contains("\"details\":\"rbac_access_denied_matched_policy[none]\""), deniedLine);
        var counters = proxy.stats().counters();
        assertEquals(1L, counters.get("tcp.rbac.allowed"));
        assertEquals(1L, counters.get("tcp.rbac.denied"));
        // Istio's dry-run prefix, joined as Envoy joins it
        assertEquals(2L, counters.get("tcp.rbac.istio_dry_run_allow_.shadow_allowed"), counters.toString());
    }

    @Test
    void logActionMarksTheTcpConnectionAndNeverCloses() throws Exception {
        Path log = dir.resolve("tcp.log");
        String audit = """
                - name: envoy.filters.network.rbac
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                    stat_prefix: tcp.
                    rules:
                      action: LOG
                      policies:
                        ns[demo]-policy[audit-42]-rule[0]:
                          permissions: [{any: true}]
                          principals: [{direct_remote_ip: {address_prefix: 127.0.0.42, prefix_len: 32}}]
                """;
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap("[]", audit + tcpProxy(log).replace(
                "peer: \"%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%\"",
                "peer: \"%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%\", hint: \"%DYNAMIC_METADATA(envoy.common:access_log_hint)%\""),
                origin.port())), 1);
        assertEquals(200, Curl.run("--interface", "127.0.0.42", url()).status());
        assertEquals(200, Curl.run("--interface", "127.0.0.43", url()).status());
        var lines = LogFiles.awaitLines(log, 2);
        String logged = lines.stream().filter(l -> l.contains("\"127.0.0.42\"")).findFirst().orElseThrow();
        String notLogged = lines.stream().filter(l -> l.contains("\"127.0.0.43\"")).findFirst().orElseThrow();
        assertTrue(logged.contains("\"hint\":true"), logged);
        assertTrue(notLogged.contains("\"hint\":false"), notLogged);
        assertEquals(2L, proxy.stats().counters().get("tcp.rbac.allowed"));
    }

    @Test
    void beforeTheConnectionManagerADeniedClientGetsNoHttpAnswer() {
        String hcm = """
                - name: envoy.filters.network.http_connection_manager
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                    stat_prefix: inbound_http
                    route_config:
                      virtual_hosts:
                      - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: backend}}]}
                    http_filters:
                    - name: envoy.filters.http.router
                      typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                """;
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap("[]",
                ALLOW_42.replace("ENFORCEMENT\n", "enforcement_type: CONTINUOUS\n") + hcm, origin.port())), 1);
        // keep-alive: one connection, three requests, each read checked again (CONTINUOUS)
        Curl.Result ok = Curl.run("--interface", "127.0.0.42", url(), url(), url());
        assertEquals(0, ok.exitCode(), ok.err());
        Curl.Result denied = Curl.run("--interface", "127.0.0.43", url());
        assertEquals(52, denied.exitCode(), denied.err());
        var counters = proxy.stats().counters();
        assertEquals(3L, counters.get("tcp.rbac.allowed"), counters.toString());
        assertEquals(1L, counters.get("tcp.rbac.denied"));
        assertEquals(3L, counters.get("http.inbound_http.downstream_rq_total"), "the denied connection never reached HTTP");
    }

    @Test
    void sourceIpIsThePeerTheProxyProtocolHeaderNamed() throws Exception {
        String rbac = """
                - name: envoy.filters.network.rbac
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                    stat_prefix: pp.
                    rules:
                      action: ALLOW
                      policies:
                        behind-the-lb:
                          permissions: [{any: true}]
                          principals: [{source_ip: {address_prefix: 198.51.100.7, prefix_len: 32}}]
                """;
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap("[{name: envoy.filters.listener.proxy_protocol}]",
                rbac + tcpProxy(dir.resolve("pp.log")), origin.port())), 1);
        assertEquals(200, status("PROXY TCP4 198.51.100.7 127.0.0.1 5555 80\r\n"));
        assertEquals(-1, status("PROXY TCP4 198.51.100.8 127.0.0.1 5555 80\r\n"), "another PROXY source is denied");
        assertEquals(1L, proxy.stats().counters().get("pp.rbac.denied"));
    }

    /** A raw HTTP/1.0 request after {@code proxyHeader}: the status code, or -1 when the connection was closed. */
    private int status(String proxyHeader) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            s.connect(proxy.listenerAddress("l"));
            s.setSoTimeout(5000);
            s.getOutputStream().write((proxyHeader + "GET /get HTTP/1.0\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String reply = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            return reply.isEmpty() ? -1 : Integer.parseInt(reply.substring(9, 12));
        } catch (java.net.SocketException reset) {
            return -1;
        }
    }

    /**
     * Envoy's network filter refuses only header rules (its config.cc validatePermission/validatePrincipal);
     * a url_path rule loads and never matches, as a connection has no :path, so its negation matches
     * every connection.
     */
    /** authenticated in the network filter: the client certificate of the TLS the proxy terminated, read at the handshake. */
    @Test
    void authenticatedIsTheTlsClientsCertificate() throws Exception {
        String sleep = "spiffe://cluster.local/ns/default/sa/sleep";
        TestCertificates.Pem server = TestCertificates.selfSigned("proxy", "localhost");
        TestCertificates.Pem client = TestCertificates.selfSigned("sleep", sleep);
        TestCertificates.Pem other = TestCertificates.selfSigned("other", "spiffe://cluster.local/ns/default/sa/other");
        Path serverCrt = Files.writeString(dir.resolve("server.crt"), server.certificate());
        Path serverKey = Files.writeString(dir.resolve("server.key"), server.privateKey());
        Path clientCrt = Files.writeString(dir.resolve("client.crt"), client.certificate());
        Path clientKey = Files.writeString(dir.resolve("client.key"), client.privateKey());
        Path otherCrt = Files.writeString(dir.resolve("other.crt"), other.certificate());
        Path otherKey = Files.writeString(dir.resolve("other.key"), other.privateKey());
        Path trusted = Files.writeString(dir.resolve("trusted.crt"), client.certificate() + other.certificate());
        String rbac = """
                - name: envoy.filters.network.rbac
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                    stat_prefix: tls.
                    rules:
                      action: ALLOW
                      policies:
                        sleep:
                          permissions: [{any: true}]
                          principals: [{authenticated: {principal_name: {exact: "%s"}}}]
                """.formatted(sleep);
        String tls = """
                    - transport_socket:
                        name: envoy.transport_sockets.tls
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                          common_tls_context:
                            tls_certificates: [{certificate_chain: {filename: "%s"}, private_key: {filename: "%s"}}]
                            validation_context: {trusted_ca: {filename: "%s"}}
                      filters:
                """.formatted(serverCrt, serverKey, trusted);
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap("[]", rbac + tcpProxy(dir.resolve("tcp.log")), origin.port())
                .replace("    - filters:\n", tls)), 1);
        String url = "https://127.0.0.1:" + proxy.listenerAddress("l").getPort() + "/get";
        assertEquals(200, Curl.run("-k", "--cert", clientCrt.toString(), "--key", clientKey.toString(), url).status());
        assertNotEquals(200, Curl.run("-k", "--cert", otherCrt.toString(), "--key", otherKey.toString(), url).status(),
                "another trusted client's connection is closed");
        assertNotEquals(200, Curl.run("-k", url).status(), "a client without a certificate names no one");
        assertEquals(1, origin.seen().size());
        assertEquals(2L, proxy.stats().counters().get("tls.rbac.denied"));
    }

    @Test
    void urlPathLoadsAndNeverMatchesAConnection() {
        String rbac = """
                - name: envoy.filters.network.rbac
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                    stat_prefix: t.
                    rules:
                      action: DENY
                      policies:
                        no-path:
                          permissions: [{not_rule: {url_path: {path: {prefix: /}}}}]
                          principals: [{direct_remote_ip: {address_prefix: 127.0.0.43, prefix_len: 32}}]
                        path:
                          permissions: [{url_path: {path: {prefix: /}}}]
                          principals: [{any: true}]
                """;
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap("[]", rbac + tcpProxy(dir.resolve("t.log")), origin.port())), 1);
        assertEquals(200, Curl.run("--interface", "127.0.0.42", url()).status(), "url_path never matches: policy path is not hit");
        assertEquals(52, Curl.run("--interface", "127.0.0.43", url()).exitCode(), "not_rule of url_path matches every connection");
        assertEquals(1L, proxy.stats().counters().get("t.rbac.denied"));
    }

    @Test
    void refusals() {
        String rbac = """
                - name: envoy.filters.network.rbac
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                    stat_prefix: t.
                    rules:
                      policies:
                        p:
                          permissions: [{header: {name: ":method", string_match: {exact: GET}}}]
                          principals: [{any: true}]
                """;
        String f = "listeners[0].filter_chains[0].filters[0]";
        assertRefused(bootstrap("[]", rbac + tcpProxy(dir.resolve("x")), 1),
                f + ".typed_config.rules.policies.p.permissions[0].header: is not supported by the RBAC network filter (HTTP only)");
        assertRefused(bootstrap("[]", rbac.replace("{header: {name: \":method\", string_match: {exact: GET}}}", "{any: true}")
                        .replace("principals: [{any: true}]", "principals: [{metadata: {filter: envoy.filters.http.jwt_authn,"
                                + " path: [{key: payload}], value: {present_match: true}}}]") + tcpProxy(dir.resolve("x")), 1),
                f + ".typed_config.rules.policies.p.principals[0].metadata: is not supported by the RBAC network filter (HTTP only)");
        assertRefused(bootstrap("[]", rbac.replace("    stat_prefix: t.\n", ""), 1),
                f + ".typed_config.stat_prefix: is required");
        assertRefused(bootstrap("[]", rbac.replace("{header: {name: \":method\", string_match: {exact: GET}}}", "{any: true}"), 1),
                f + ": the last filter must be tcp_proxy or http_connection_manager");
        assertRefused(bootstrap("[]", rbac.replace("rules:", "delay_deny: 1s\n    rules:") + tcpProxy(dir.resolve("x")), 1),
                f + ".typed_config.delay_deny: field is not supported");
    }

    private static void assertRefused(String yaml, String message) {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> BootstrapLoader.loadText(yaml));
        assertEquals(message, e.getMessage());
    }
}
