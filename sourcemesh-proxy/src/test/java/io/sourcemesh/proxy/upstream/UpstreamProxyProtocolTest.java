package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.TestCertificates;
import io.sourcemesh.proxy.testing.TlsOrigin;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * envoy.transport_sockets.upstream_proxy_protocol against a real socket backend that reads the
 * header: every new upstream connection starts with the downstream connection's addresses, and a
 * pooled connection is only reused for the same downstream connection (Envoy keys the pool on them).
 */
class UpstreamProxyProtocolTest {
    private Proxy proxy;
    private Backend backend;

    @AfterEach
    void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    /**
     * Accepts connections, records the PROXY header each starts with, then (with {@code tls}) does a TLS handshake as
     * a server, recording its protocol, and answers HTTP or echoes.
     */
    static final class Backend implements AutoCloseable {
        final ServerSocket server;
        final List<String> headers = new CopyOnWriteArrayList<>();
        final List<String> tlsProtocols = new CopyOnWriteArrayList<>();
        private final boolean http;
        private final SSLContext tls;

        Backend(boolean http) throws IOException {
            this(http, null);
        }

        Backend(boolean http, SSLContext tls) throws IOException {
            this.http = http;
            this.tls = tls;
            server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
            Thread.ofVirtual().start(this::acceptLoop);
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread.ofVirtual().start(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket plain) {
            try (plain) {
                headers.add(readHeader(new DataInputStream(plain.getInputStream())));
                Socket s = plain;
                if (tls != null) {
                    // the header is read byte by byte, so nothing of the handshake was taken with it
                    SSLSocket secure = (SSLSocket) tls.getSocketFactory().createSocket(plain, null, true);
                    secure.startHandshake();
                    tlsProtocols.add(secure.getSession().getProtocol());
                    s = secure;
                }
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                if (!http) {
                    in.transferTo(out); // echo
                    return;
                }
                while (readRequestHead(in)) {
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            } catch (IOException e) {
                // the proxy closed the connection
            }
        }

        /** v1 as its text line, v2 rendered as "v2 src:port dst:port". */
        private static String readHeader(DataInputStream in) throws IOException {
            int first = in.read();
            if (first == 'P') {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                line.write(first);
                int c;
                while ((c = in.read()) != '\n' && c >= 0) {
                    line.write(c);
                }
                return line.toString(StandardCharsets.US_ASCII).trim();
            }
            byte[] rest = new byte[15];
            in.readFully(rest);
            int length = ((rest[13] & 0xff) << 8) | (rest[14] & 0xff);
            byte[] body = new byte[length];
            in.readFully(body);
            if (rest[11] != 0x21 || rest[12] != 0x11) {
                return "v2 command " + rest[11] + " family " + rest[12];
            }
            String src = InetAddress.getByAddress(java.util.Arrays.copyOfRange(body, 0, 4)).getHostAddress();
            String dst = InetAddress.getByAddress(java.util.Arrays.copyOfRange(body, 4, 8)).getHostAddress();
            int sport = ((body[8] & 0xff) << 8) | (body[9] & 0xff);
            int dport = ((body[10] & 0xff) << 8) | (body[11] & 0xff);
            return "v2 " + src + ":" + sport + " " + dst + ":" + dport;
        }

        private static boolean readRequestHead(InputStream in) throws IOException {
            int matched = 0;
            int c;
            while ((c = in.read()) >= 0) {
                matched = (c == '\r' || c == '\n') ? (c == "\r\n\r\n".charAt(matched) ? matched + 1 : 0) : 0;
                if (matched == 4) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    static String bootstrap(String filter, int backendPort, String version) {
        return """
                static_resources:
                  listeners:
                  - name: l
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - FILTER
                  clusters:
                  - name: backend
                    connect_timeout: 1s
                    transport_socket:
                      name: envoy.transport_sockets.upstream_proxy_protocol
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport
                        config: {version: VERSION}
                        transport_socket:
                          name: envoy.transport_sockets.raw_buffer
                          typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}
                    load_assignment:
                      cluster_name: backend
                      endpoints:
                      - lb_endpoints:
                        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: BACKEND_PORT}}}
                """.replace("FILTER", filter).replace("VERSION", version).replace("BACKEND_PORT", Integer.toString(backendPort));
    }

    private static final String HCM = "{name: envoy.filters.network.http_connection_manager, typed_config: {\"@type\": "
            + "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager, "
            + "stat_prefix: h, route_config: {virtual_hosts: [{name: a, domains: [\"*\"], routes: [{match: {prefix: /}, "
            + "route: {cluster: backend}}]}]}, http_filters: [{name: envoy.filters.http.router, typed_config: {\"@type\": "
            + "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]}}";

    @Test
    void httpUpstreamConnectionsCarryTheirOwnClientAndAreNeverSharedAcrossClients() throws Exception {
        backend = new Backend(true);
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(HCM, backend.server.getLocalPort(), "V1")), 1);
        int port = proxy.listenerAddress("l").getPort();
        String url = "http://127.0.0.1:" + port + "/";
        // one downstream connection, three requests: one upstream connection, one header
        Curl.Result a = Curl.run("--interface", "127.0.0.42", url, url, url);
        assertEquals(0, a.exitCode(), a.err());
        assertEquals(1, backend.headers.size(), backend.headers.toString());
        // another client: its own upstream connection, although an idle one is pooled
        assertEquals(200, Curl.run("--interface", "127.0.0.43", url).status());
        // the first client again, on a new downstream connection (new source port): a new one too
        assertEquals(200, Curl.run("--interface", "127.0.0.42", url).status());
        assertEquals(3, backend.headers.size(), backend.headers.toString());
        String[] sources = {"127.0.0.42", "127.0.0.43", "127.0.0.42"};
        for (int i = 0; i < 3; i++) {
            String h = backend.headers.get(i);
            assertTrue(h.matches("PROXY TCP4 " + sources[i].replace(".", "\\.") + " 127\\.0\\.0\\.1 \\d+ " + port), h);
        }
        assertTrue(!backend.headers.get(0).equals(backend.headers.get(2)), "different downstream source ports");
    }

    @Test
    void tcpProxyV2HeaderNamesTheClientAndTheListener() throws Exception {
        backend = new Backend(false);
        String tcp = "{name: envoy.filters.network.tcp_proxy, typed_config: {\"@type\": "
                + "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: backend}}";
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(tcp, backend.server.getLocalPort(), "V2")), 1);
        int port = proxy.listenerAddress("l").getPort();
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress("127.0.0.44", 0));
            s.connect(new InetSocketAddress("127.0.0.1", port));
            s.setSoTimeout(5000);
            s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            byte[] echo = s.getInputStream().readNBytes(5);
            assertEquals("hello", new String(echo, StandardCharsets.US_ASCII));
            assertEquals(List.of("v2 127.0.0.44:" + s.getLocalPort() + " 127.0.0.1:" + port), backend.headers);
        }
    }

    @Test
    void refusals() {
        String ok = bootstrap(HCM, 1, "V1");
        assertRefused(ok.replace("config: {version: V1}", "config: {version: V1, pass_through_tlvs: {match_type: INCLUDE_ALL}}"),
                "clusters[0].transport_socket.typed_config.config.pass_through_tlvs: field is not supported");
        String noInner = ok.substring(0, ok.indexOf("        transport_socket:\n          name: envoy.transport_sockets.raw_buffer"))
                + ok.substring(ok.indexOf("    load_assignment:"));
        assertRefused(noInner, "clusters[0].transport_socket.typed_config.transport_socket: is required (raw_buffer)");
        assertRefused(ok.replace("config: {version: V1}", "config: {version: V1}\n"
                        + "        transport_socket:\n"
                        + "          name: envoy.transport_sockets.upstream_proxy_protocol\n"
                        + "          typed_config:\n"
                        + "            \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport\n"
                        + "            transport_socket: {name: envoy.transport_sockets.raw_buffer}\n"
                        + "        unused:").replace("        unused:\n        transport_socket:\n          name: envoy.transport_sockets.raw_buffer\n"
                        + "          typed_config: {\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}\n", ""),
                "clusters[0].transport_socket.typed_config.transport_socket: cannot wrap another upstream_proxy_protocol");
    }

    /**
     * Istio's proxyProtocol with a DestinationRule's tls: upstream_proxy_protocol around the TLS socket. The header goes
     * out in the clear, then the handshake (the backend reads the header and only then speaks TLS); the certificate is
     * verified against the cluster's CA and the SNI is the cluster's.
     */
    @Test
    void theTlsHandshakeFollowsTheHeader() throws Exception {
        TestCertificates.Pem cert = TestCertificates.selfSigned("backend", "backend.example");
        backend = new Backend(true, TlsOrigin.serverContext(cert, null));
        String tls = """
                        transport_socket:
                          name: envoy.transport_sockets.tls
                          typed_config:
                            "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                            sni: backend.example
                            common_tls_context:
                              validation_context:
                                trusted_ca: {inline_string: "CA"}
                                match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: backend.example}}]
                """.replace("CA", cert.certificate().replace("\n", "\\n"));
        String yaml = bootstrap(HCM, backend.server.getLocalPort(), "V2");
        String raw = "        transport_socket:\n          name: envoy.transport_sockets.raw_buffer\n"
                + "          typed_config: {\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}\n";
        assertTrue(yaml.contains(raw));
        proxy = Proxy.start(BootstrapLoader.loadText(yaml.replace(raw, tls)), 1);
        int port = proxy.listenerAddress("l").getPort();
        Curl.Result r = Curl.run("--interface", "127.0.0.45", "http://127.0.0.1:" + port + "/");
        assertEquals(200, r.status(), r.err());
        assertEquals(1, backend.headers.size(), backend.headers.toString());
        assertTrue(backend.headers.get(0).matches("v2 127\\.0\\.0\\.45:\\d+ 127\\.0\\.0\\.1:" + port), backend.headers.get(0));
        assertEquals(1, backend.tlsProtocols.size(), "one TLS connection after the header");
        // a certificate the cluster's CA did not sign: the handshake after the header fails, Envoy's 503
        TestCertificates.Pem other = TestCertificates.selfSigned("backend", "backend.example");
        backend.close();
        backend = new Backend(true, TlsOrigin.serverContext(other, null));
        proxy.close();
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(HCM, backend.server.getLocalPort(), "V2").replace(raw, tls)), 1);
        port = proxy.listenerAddress("l").getPort();
        assertEquals(503, Curl.run("http://127.0.0.1:" + port + "/").status());
        assertEquals(1, backend.headers.size(), "the header went out before the failed handshake");
        assertEquals(List.of(), backend.tlsProtocols);
    }

    private static void assertRefused(String yaml, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapLoader.loadText(yaml));
        assertEquals(message, e.getMessage());
    }
}
