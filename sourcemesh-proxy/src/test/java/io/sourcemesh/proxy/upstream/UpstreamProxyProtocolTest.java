package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.testing.Curl;
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

    /** Accepts connections, records the PROXY header each starts with, then answers HTTP or echoes. */
    static final class Backend implements AutoCloseable {
        final ServerSocket server;
        final List<String> headers = new CopyOnWriteArrayList<>();
        private final boolean http;

        Backend(boolean http) throws IOException {
            this.http = http;
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

        private void serve(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                headers.add(readHeader(new DataInputStream(in)));
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
        assertRefused(ok.replace("name: envoy.transport_sockets.raw_buffer", "name: envoy.transport_sockets.tls")
                        .replace("{\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}",
                                "{\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext}"),
                "clusters[0].transport_socket.typed_config.transport_socket: TLS under upstream_proxy_protocol is not supported "
                        + "(raw_buffer is)");
    }

    private static void assertRefused(String yaml, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapLoader.loadText(yaml));
        assertEquals(message, e.getMessage());
    }
}
