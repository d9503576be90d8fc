package io.sourcemesh.proxy.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.LogFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * tcp_proxy's tunneling_config with a real forward proxy on loopback (a test's own, speaking HTTP/1.1 CONNECT as Squid
 * does), as Envoy's tcp_proxy_http_integration_test: the client's bytes go through a CONNECT tunnel to the hostname, and
 * none of them before the proxy's 2xx; a refused CONNECT closes the client as a failed connect (UF,URX) with the
 * response as the reason; a client that leaves while the tunnel is asked for takes the upstream connection with it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpProxyTunnelingTest {
    private static final String LOG = "%RESPONSE_FLAGS% %UPSTREAM_TRANSPORT_FAILURE_REASON% %BYTES_RECEIVED% %BYTES_SENT%";

    @TempDir
    Path dir;
    private ServerSocket forwardProxy;
    private Proxy proxy;
    private Path log;
    /** Each CONNECT head the forward proxy read. */
    private final List<String> heads = new CopyOnWriteArrayList<>();
    /** Whether any byte came after a head before the answer to it was sent (early data). */
    private final List<Boolean> early = new CopyOnWriteArrayList<>();
    private final List<Boolean> closedByProxy = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        if (forwardProxy != null) {
            forwardProxy.close();
        }
    }

    @Test
    void theClientsBytesGoThroughAConnectTunnelAfterThe2xx() throws Exception {
        start("HTTP/1.1 200 Connection established\r\nx-extra: 1\r\n\r\nwelcome\n", 300);
        try (Socket client = client()) {
            client.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("welcome", line(client.getInputStream()), "the bytes after the 2xx head are the tunnel's");
            assertEquals("echo hello", line(client.getInputStream()));
        }
        assertEquals(List.of("CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n"), heads);
        assertEquals(List.of(false), early, "nothing of the client's before the forward proxy answered");
        List<String> lines = LogFiles.awaitLines(log, 1);
        assertEquals("- - 6 19", lines.get(0), "the CONNECT response's head is not the client's");
    }

    @Test
    void aRefusedConnectClosesTheClientAsAFailedConnect() throws Exception {
        start("HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n", 0);
        try (Socket client = client()) {
            client.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(closed(client), "closed, nothing of the 407 relayed");
        }
        String line = LogFiles.awaitLines(log, 1).get(0);
        assertTrue(line.startsWith("UF,URX the CONNECT response's status is 407 ") && line.endsWith(" 0"), line);
        assertEquals(1, proxy.stats().counters().get("cluster.proxy.upstream_cx_connect_fail"));
        awaitClosed();
    }

    @Test
    void aResponseThatIsNotHttpIsRefused() throws Exception {
        start("SSH-2.0-OpenSSH\r\n\r\n", 0);
        try (Socket client = client()) {
            assertTrue(closed(client));
        }
        assertEquals("UF,URX the CONNECT response is not HTTP/1.x 0 0", LogFiles.awaitLines(log, 1).get(0));
    }

    @Test
    void aClientThatLeavesWhileTheTunnelIsAskedForClosesTheUpstream() throws Exception {
        start(null, 0); // the forward proxy never answers
        try (Socket client = client()) {
            awaitHeads(1);
        }
        awaitClosed();
        assertEquals("- - 0 0", LogFiles.awaitLines(log, 1).get(0), "the client left: no failure of the upstream's");
    }

    @Test
    void anHttp2ClusterIsRefusedNotTunnelledOverHttp1() throws Exception {
        start("HTTP/1.1 200 OK\r\n\r\n", 0, """
                    typed_extension_protocol_options:
                      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                        explicit_http_config: {http2_protocol_options: {}}
                """);
        try (Socket client = client()) {
            assertTrue(closed(client));
        }
        assertEquals("UF,URX tunneling over an HTTP/2 cluster is not supported (HTTP/1.1 CONNECT only) 0 0",
                LogFiles.awaitLines(log, 1).get(0));
        assertTrue(heads.isEmpty(), "no CONNECT sent");
    }

    private Socket client() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.listenerAddress("tcp").getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    /**
     * Whether the proxy closed the client without sending it anything: end of stream, or a reset where the client's own
     * bytes were still unread (the kernel's answer to closing such a socket, Envoy's as well).
     */
    private static boolean closed(Socket client) throws IOException {
        try {
            return client.getInputStream().read() == -1;
        } catch (java.net.SocketException e) {
            return e.getMessage().contains("reset");
        }
    }

    private void awaitHeads(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (heads.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(n, heads.size());
    }

    private void awaitClosed() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (closedByProxy.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(List.of(true), closedByProxy, "the forward proxy saw the upstream connection close");
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            out.write(b);
        }
        return out.toString(StandardCharsets.US_ASCII);
    }

    private void start(String answer, int answerDelayMillis) throws IOException {
        start(answer, answerDelayMillis, "");
    }

    /**
     * A forward proxy that reads a CONNECT head, waits {@code answerDelayMillis}, sends {@code answer} (null: never
     * answers) and, after a 2xx, echoes each line as "echo <line>"; and the proxy with a tunnelling tcp_proxy to it.
     */
    private void start(String answer, int answerDelayMillis, String clusterFields) throws IOException {
        forwardProxy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        ServerSocket server = forwardProxy;
        Thread.ofVirtual().start(() -> {
            while (true) {
                Socket c;
                try {
                    c = server.accept();
                } catch (IOException e) {
                    return;
                }
                Thread.ofVirtual().start(() -> serve(c, answer, answerDelayMillis));
            }
        });
        log = dir.resolve("access.log");
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
                          cluster: proxy
                          tunneling_config: {hostname: "example.com:443"}
                          access_log:
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: "%s"
                              log_format: {text_format_source: {inline_string: "%s\\n"}}
                  clusters:
                  - name: proxy
                    connect_timeout: 1s
                %s    load_assignment:
                      cluster_name: proxy
                      endpoints:
                      - lb_endpoints:
                        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                """.formatted(log, LOG, clusterFields, forwardProxy.getLocalPort())), 1);
    }

    private void serve(Socket c, String answer, int answerDelayMillis) {
        try (c) {
            c.setSoTimeout(20_000);
            InputStream in = c.getInputStream();
            OutputStream out = c.getOutputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b == -1) {
                    closedByProxy.add(true);
                    return;
                }
                head.write(b);
            }
            heads.add(head.toString(StandardCharsets.US_ASCII));
            if (answer == null) {
                closedByProxy.add(in.read() == -1);
                return;
            }
            Thread.sleep(answerDelayMillis);
            early.add(in.available() > 0);
            out.write(answer.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            if (!answer.startsWith("HTTP/1.1 2")) {
                closedByProxy.add(in.read() == -1);
                return;
            }
            String line;
            while (!(line = line(in)).isEmpty()) {
                out.write(("echo " + line + "\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the proxy closed
        }
    }
}
